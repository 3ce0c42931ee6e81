/**
 * Typed access to GGUF metadata. Each getter throws a FormatError naming the key when it is
 * missing (unless a fallback is given) or holds a value of another kind.
 */
import { FormatError } from './errors.ts';
import { ggufTypeName, type GgufFile, type GgufValue } from './gguf.ts';

function describe(file: GgufFile, key: string, value: GgufValue): string {
  const type = ggufTypeName(file.metadataTypes[key]);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  const shown = typeof value === 'string' && value.length > 40 ? `${value.slice(0, 40)}…` : String(value);
  return `${type} ${typeof value === 'string' ? JSON.stringify(shown) : shown}`;
}

function lookup(file: GgufFile, key: string, expected: string, hasFallback: boolean): GgufValue | undefined {
  if (Object.hasOwn(file.metadata, key)) return file.metadata[key];
  if (hasFallback) return undefined;
  throw new FormatError(file.source, `metadata key '${key}' (${expected}) is missing; the file does not describe a model tsugiki can load (convert it again with a current llama.cpp)`);
}

function wrongKind(file: GgufFile, key: string, expected: string, value: GgufValue): never {
  throw new FormatError(file.source, `metadata key '${key}' should be ${expected} but is ${describe(file, key, value)}; the file is damaged or from an unusual converter`);
}

export function ggufValue(file: GgufFile, key: string): GgufValue {
  return lookup(file, key, 'a value', false) as GgufValue;
}

export function ggufHas(file: GgufFile, key: string): boolean {
  return Object.hasOwn(file.metadata, key);
}

export function ggufString(file: GgufFile, key: string, fallback?: string): string {
  const v = lookup(file, key, 'a string', fallback !== undefined);
  if (v === undefined) return fallback as string;
  if (typeof v !== 'string') wrongKind(file, key, 'a string', v);
  return v;
}

/** Any integer or float type; 64-bit integers beyond 2^53 are refused. */
export function ggufNumber(file: GgufFile, key: string, fallback?: number): number {
  const v = lookup(file, key, 'a number', fallback !== undefined);
  if (v === undefined) return fallback as number;
  if (typeof v !== 'number') wrongKind(file, key, 'a number', v);
  return v;
}

export function ggufBool(file: GgufFile, key: string, fallback?: boolean): boolean {
  const v = lookup(file, key, 'a bool', fallback !== undefined);
  if (v === undefined) return fallback as boolean;
  if (typeof v !== 'boolean') wrongKind(file, key, 'a bool', v);
  return v;
}

export function ggufStringArray(file: GgufFile, key: string, fallback?: string[]): string[] {
  const v = lookup(file, key, 'an array of strings', fallback !== undefined);
  if (v === undefined) return fallback as string[];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) wrongKind(file, key, 'an array of strings', v);
  return v as string[];
}

export function ggufNumberArray(file: GgufFile, key: string, fallback?: number[]): number[] {
  const v = lookup(file, key, 'an array of numbers', fallback !== undefined);
  if (v === undefined) return fallback as number[];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'number')) wrongKind(file, key, 'an array of numbers', v);
  return v as number[];
}
