import type { Gpu } from '../../src/gpu/device.ts';

const MAP_READ = 0x1;

/** Counts the device's queue submits and the mappable (staging) buffers it creates until `restore`. */
export function countSubmitsAndStaging(gpu: Gpu): { counts: { submits: number; staging: number }; restore: () => void } {
  const device = gpu.device;
  const createBuffer = device.createBuffer.bind(device);
  const submit = device.queue.submit.bind(device.queue);
  const counts = { submits: 0, staging: 0 };
  device.createBuffer = (d: GPUBufferDescriptor) => {
    if (d.usage & MAP_READ) counts.staging++;
    return createBuffer(d);
  };
  device.queue.submit = (c: Iterable<GPUCommandBuffer>) => {
    counts.submits++;
    submit(c);
  };
  return {
    counts,
    restore: () => {
      device.createBuffer = createBuffer;
      device.queue.submit = submit;
    },
  };
}
