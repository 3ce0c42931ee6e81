import { UsageError } from './args.ts';

/** Each command lives in commands/<name>.ts and exports `run(argv): Promise<number>` (the exit code). */
const COMMANDS: Record<string, { summary: string; load: () => Promise<{ run: (argv: string[]) => Promise<number> }> }> = {
  info: { summary: 'architecture, sizes and LoRA target modules of a model', load: () => import('./commands/info.ts') },
  generate: { summary: 'generate text, optionally with an adapter', load: () => import('./commands/generate.ts') },
  eval: { summary: 'per-row masked loss and accuracy on a dataset', load: () => import('./commands/eval.ts') },
  plan: { summary: 'GPU memory a training run will need, by owner, without running it', load: () => import('./commands/plan.ts') },
  train: { summary: 'train a LoRA adapter and write it in PEFT format', load: () => import('./commands/train.ts') },
  merge: { summary: 'merge an adapter into the base weights', load: () => import('./commands/merge.ts') },
  'export-onnx': { summary: 'export the model (adapter merged) to ONNX for transformers.js', load: () => import('./commands/export-onnx.ts') },
  'export-gguf': { summary: 'write the adapter (or the merged model, with an ollama Modelfile) as GGUF for llama.cpp', load: () => import('./commands/export-gguf.ts') },
  'export-gpu-server': { summary: 'a folder that continues the run with Hugging Face TRL + PEFT on a GPU server', load: () => import('./commands/export-gpu-server.ts') },
  bench: { summary: 'benchmark kernels against peers on this GPU', load: () => import('./commands/bench.ts') },
  tune: { summary: 'time the matmul kernel choices on this GPU and keep the fastest', load: () => import('./commands/tune.ts') },
  'gpu-info': { summary: 'the WebGPU adapter tsugiki finds and its limits', load: () => import('./commands/gpu-info.ts') },
};

export function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(18)} ${c.summary}`);
  return `usage: tsugiki <command> [options]   (every command takes --json)\n\ncommands:\n${lines.join('\n')}\n`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`tsugiki: unknown command '${name}'.\n\n${usage()}`);
    return 2;
  }
  let mod: Awaited<ReturnType<typeof command.load>>;
  try {
    mod = await command.load();
  } catch (e) {
    process.stderr.write(`tsugiki ${name}: this command is not available in this build (${(e as Error).message}).\n`);
    return 2;
  }
  try {
    return await mod.run(rest);
  } catch (e) {
    const err = e as Error;
    process.stderr.write(`tsugiki ${name}: ${err.message}\n`);
    if (process.env.TSUGIKI_DEBUG && err.stack) process.stderr.write(`${err.stack}\n`);
    return err instanceof UsageError ? 2 : 1;
  }
}
