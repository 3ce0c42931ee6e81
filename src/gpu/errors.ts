/** An error from the GPU layer, worded for the person using the studio or the CLI. */
export class GpuError extends Error {
  constructor(message: string, readonly kind: 'no-webgpu' | 'no-adapter' | 'limits' | 'out-of-memory' | 'validation' | 'device-lost' | 'internal') {
    super(message);
    this.name = 'GpuError';
  }
}

export const NO_WEBGPU_HELP =
  'WebGPU is not available in this browser. Use a recent Chrome or Edge (version 113 or later) on Windows, macOS or ChromeOS, ' +
  'Chrome on Linux with chrome://flags/#enable-unsafe-webgpu enabled, Safari 26 or later, or Firefox 141 or later on Windows.';

export function deviceLostMessage(reason: string, message: string): string {
  const why = message ? ` (${message})` : '';
  return reason === 'destroyed'
    ? `The GPU device was closed${why}.`
    : `The GPU stopped responding and the browser reset it${why}. This happens when another program or tab needs the GPU, ` +
        'when the driver restarts, or when a step takes too long. Your data and saved checkpoints are safe: reload the page and resume.';
}
