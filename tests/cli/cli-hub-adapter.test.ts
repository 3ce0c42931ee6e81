import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { run as info } from '../../src/cli/commands/info.ts';
import { run as generateCmd } from '../../src/cli/commands/generate.ts';
import { defaultAdapterConfig, loraScale } from '../../src/lora/config.ts';
import { exportPeftAdapter } from '../../src/lora/peft.ts';
import { loadModelFiles } from '../../src/model/load-source.ts';
import { ReferenceModel } from '../reference/model.ts';
import { tinyModelFiles } from '../helpers/tiny-models.ts';
import { layoutFor, randomParams, refLora } from '../model/network-lora-helpers.ts';
import { capture } from './cli-helpers.ts';

// A tiny GPT-2 in two shards (so the loader must fall back to the index), served in the Hub's layout.
const files = tinyModelFiles('gpt2', { shards: 2 });
let server: Server;
const requests: string[] = [];
const saved = { endpoint: process.env.TSUGIKI_HF_ENDPOINT, cache: process.env.TSUGIKI_CACHE_DIR };

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = req.url ?? '';
    requests.push(url);
    const m = /^\/owner\/tiny-gpt2\/resolve\/main\/(.+)$/.exec(url);
    const body = m ? files[decodeURIComponent(m[1])] : undefined;
    if (body) res.writeHead(200, { 'content-length': body.length }).end(Buffer.from(body));
    else res.writeHead(404).end('{"error":"Entry not found"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.env.TSUGIKI_HF_ENDPOINT = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  process.env.TSUGIKI_CACHE_DIR = mkdtempSync(join(tmpdir(), 'tsugiki-cache-'));
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  for (const [k, v] of [['TSUGIKI_HF_ENDPOINT', saved.endpoint], ['TSUGIKI_CACHE_DIR', saved.cache]] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

describe('CLI models from hf: and adapters from PEFT folders', () => {
  it('info --json hf:owner/name downloads config, tokenizer, index and shards, then reads the cache', async () => {
    const { code, out } = await capture(info, ['hf:owner/tiny-gpt2', '--json']);
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ architecture: 'gpt2', layers: 2, hidden_size: 32, vocab_size: 100, lora_targets: ['c_attn', 'c_proj', 'c_fc'] });
    expect(requests).toContain('/owner/tiny-gpt2/resolve/main/model.safetensors.index.json');
    expect(requests).toContain('/owner/tiny-gpt2/resolve/main/model-00002-of-00002.safetensors');
    const before = requests.length;
    await capture(info, ['hf:owner/tiny-gpt2', '--json']);
    // Only the absent model.safetensors is asked again (a 404 is not cached).
    expect(requests.slice(before)).toEqual(['/owner/tiny-gpt2/resolve/main/model.safetensors']);
  });

  it('generate --adapter DIR gives the reference\'s greedy tokens with the adapter\'s LoRA hooks', async () => {
    const model = loadModelFiles(files, 'tiny-gpt2');
    const cfg = { ...defaultAdapterConfig('gpt2'), rank: 4, alpha: 8, targets: 'all-linear' as const };
    const layout = layoutFor(model.config, 4);
    const params = randomParams(layout, 3, 0.3);
    const dir = mkdtempSync(join(tmpdir(), 'tsugiki-adapter-'));
    mkdirSync(dir, { recursive: true });
    for (const [name, bytes] of Object.entries(exportPeftAdapter(layout, Float32Array.from(params), cfg, 'gpt2'))) writeFileSync(join(dir, name), bytes);
    const { code, out } = await capture(generateCmd, ['hf:owner/tiny-gpt2', '--adapter', dir, '--prompt', 'hi there', '--max-new-tokens', '10', '--json']);
    expect(code).toBe(0);
    const j = JSON.parse(out);
    const ref = new ReferenceModel(model.config, model.weights);
    const lora = refLora(layout, params, loraScale(cfg));
    expect(j.output_ids).toEqual(ref.greedy(j.prompt_ids, 10, { lora, stopIds: [0] }));
    // The adapter changes the text: without it the tokens differ.
    expect(j.output_ids).not.toEqual(ref.greedy(j.prompt_ids, 10, { stopIds: [0] }));
  });
});
