/** A small, strict argument parser: `--name value`, `--flag`, and positionals. */
export interface ParsedArgs {
  positionals: string[];
  options: Map<string, string | true>;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * `flags` are options that take no value (`--json`, `--rslora`); every other `--name` takes the next
 * word as its value. Unknown names are refused so a typo never passes silently.
 */
export function parseArgs(argv: readonly string[], valued: readonly string[], flags: readonly string[]): ParsedArgs {
  const positionals: string[] = [];
  const options = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i];
    if (!word.startsWith('--')) {
      positionals.push(word);
      continue;
    }
    const [name, inline] = word.slice(2).split(/=(.*)/s, 2);
    if (flags.includes(name)) {
      options.set(name, true);
    } else if (valued.includes(name)) {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value.`);
      options.set(name, value);
    } else {
      throw new UsageError(`Unknown option --${name}. Known: ${[...valued, ...flags].map((n) => `--${n}`).join(' ')}`);
    }
  }
  return { positionals, options };
}

export function stringOption(a: ParsedArgs, name: string): string | undefined {
  const v = a.options.get(name);
  return typeof v === 'string' ? v : undefined;
}

export function numberOption(a: ParsedArgs, name: string, fallback: number, { integer = false, min = -Infinity } = {}): number {
  const raw = stringOption(a, name);
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min) {
    throw new UsageError(`--${name} ${raw}: expected ${integer ? 'a whole number' : 'a number'}${min > -Infinity ? ` ≥ ${min}` : ''}.`);
  }
  return v;
}
