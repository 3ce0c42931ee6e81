import { describe, it, expect } from 'vitest';
import { FormatError } from '../../src/io/errors.ts';
import { unzipFiles, zipFiles } from '../../src/io/zip.ts';

// Written by Python's zipfile (deflate): adapter/adapter_config.json = '{"r": 8}\n',
// notes.txt = 'hello hello hello hello\n'.
const PYTHON_ZIP =
  'UEsDBBQAAAAIAAAAIVgmHKAFCwAAAAkAAAAbAAAAYWRhcHRlci9hZGFwdGVyX2NvbmZpZy5qc29uq1YqUrJSsKjlAgBQSwMEFAAAAAgAAAAhWACIWQsLAAAAGAAAAAkAAABub3Rlcy50eHTLSM3JyVfIQCe5AFBLAQIUAxQAAAAIAAAAIVgmHKAFCwAAAAkAAAAbAAAAAAAAAAAAAACAAQAAAABhZGFwdGVyL2FkYXB0ZXJfY29uZmlnLmpzb25QSwECFAMUAAAACAAAACFYAIhZCwsAAAAYAAAACQAAAAAAAAAAAAAAgAFEAAAAbm90ZXMudHh0UEsFBgAAAAACAAIAgAAAAHYAAAAAAA==';

const text = (b: Uint8Array | undefined) => new TextDecoder().decode(b);

describe('zip', () => {
  it('reads an archive written by another tool', () => {
    const files = unzipFiles(new Uint8Array(Buffer.from(PYTHON_ZIP, 'base64')));
    expect(Object.keys(files).sort()).toEqual(['adapter/adapter_config.json', 'notes.txt']);
    expect(text(files['adapter/adapter_config.json'])).toBe('{"r": 8}\n');
    expect(text(files['notes.txt'])).toBe('hello hello hello hello\n');
  });

  it('round-trips files deterministically', () => {
    const files = {
      'adapter_config.json': new TextEncoder().encode('{"r":8,"lora_alpha":16}'),
      'adapter_model.safetensors': Uint8Array.from({ length: 5000 }, (_, i) => i % 7),
      'dir/ü.txt': new Uint8Array(0),
    };
    const a = zipFiles(files);
    expect(Array.from(a.subarray(0, 4))).toEqual([0x50, 0x4b, 3, 4]);
    expect(a.length).toBeLessThan(5000); // the repetitive tensor bytes were compressed
    expect(zipFiles(files)).toEqual(a);
    expect(unzipFiles(a)).toEqual(files);
  });

  it('refuses non-zip and damaged input with a FormatError', () => {
    expect(() => unzipFiles(new TextEncoder().encode('{"r": 8}'), 'x.zip')).toThrow(/x.zip: is not a zip archive/);
    const damaged = zipFiles({ 'a.txt': new TextEncoder().encode('a'.repeat(1000)) }).subarray(0, 40);
    expect(() => unzipFiles(damaged)).toThrow(FormatError);
    expect(() => zipFiles({ '../evil': new Uint8Array(1) })).toThrow(/not a relative path/);
  });
});
