/**
 * WGSL sources by basename (`matmul` for shaders/matmul.wgsl). The browser build fills this from
 * Vite's glob import, Node from the file system, so kernels look shaders up the same way in both.
 */
const sources = new Map<string, string>();

export function registerShaders(files: Record<string, string>): void {
  for (const [path, code] of Object.entries(files)) {
    const base = path.replace(/^.*\//, '').replace(/\.wgsl$/, '');
    sources.set(base, code);
  }
}

export function hasShaders(): boolean {
  return sources.size > 0;
}

/** The source of one or more shader files, concatenated in order (shared helpers first). */
export function shaderSource(names: readonly string[]): string {
  return names
    .map((name) => {
      const code = sources.get(name);
      if (code === undefined) {
        const known = [...sources.keys()].sort().join(', ') || 'none';
        throw new Error(`No shader named '${name}.wgsl' is loaded (loaded: ${known}).`);
      }
      return `// ---- ${name}.wgsl ----\n${code}`;
    })
    .join('\n');
}
