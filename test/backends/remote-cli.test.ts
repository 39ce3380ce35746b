// The --backend flags of eval, calibrate, demo and search: parsed and refused by name, and the commands
// run against a scripted vLLM stand-in on loopback as they run against local models.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { remoteFlags } from '../../lib/cli/backend-flags.js';
import { calibrateCommand, parseCalibrateFlags } from '../../lib/cli/commands/calibrate.js';
import { evalCommand, parseEvalFlags } from '../../lib/cli/commands/eval.js';
import { parseSearchFlags, searchCommand } from '../../lib/cli/commands/search.js';
import type { Command } from '../../lib/cli/commands/types.js';
import { startFakeVllm, type FakeVllm } from '../helpers/fake-vllm.js';

async function run(command: Command, argv: string[]) {
  let out = '';
  let err = '';
  const code = await command.run(argv, { stdout: (s) => void (out += s), stderr: (s) => void (err += s) });
  return { code, out, err };
}

const tmp = mkdtempSync(path.join(tmpdir(), 'thinktree-remote-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const servers: FakeVllm[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function fake(apiKey?: string): Promise<FakeVllm> {
  const s = await startFakeVllm({ prm: 'fake-prm', apiKey });
  servers.push(s);
  return s;
}

describe('--backend flags', () => {
  it('replace --model: eval parses without one and keeps the servers', () => {
    const f = parseEvalFlags(['--data', 'd.jsonl', '--backend', 'http://gpu:8000', '--prm-backend', 'http://gpu:8001', '--backend-model', 'p', '--prm-model', 'r']);
    expect(f !== 'help' && f.model).toBeUndefined();
    expect(f !== 'help' && f.remote).toEqual({ url: 'http://gpu:8000', prmUrl: 'http://gpu:8001', model: 'p', prmModel: 'r', apiKey: undefined, policyTokenizer: undefined });
    // With a PRM named, eval's default strategies are the PRM ones.
    expect(f !== 'help' && f.strategies).toContain('beam');
  });

  it('refuse local model flags with --backend, and server flags without it', () => {
    expect(() => parseEvalFlags(['--data', 'd.jsonl', '--backend', 'http://gpu:8000', '--model', 'm'])).toThrow(/--model is for local models/u);
    expect(() => parseCalibrateFlags(['--data', 'd.jsonl', '--backend', 'http://gpu:8000', '--threads', '2', '--out', 'o.json', '--prm-model', 'r'])).toThrow(/--threads is for local models/u);
    expect(() => parseEvalFlags(['--data', 'd.jsonl', '--model', 'm', '--prm-model', 'r'])).toThrow(/--prm-model needs --backend URL/u);
    expect(() => parseEvalFlags(['--data', 'd.jsonl', '--backend', 'gpu:8000'])).toThrow(/--backend must be an http\(s\) URL/u);
  });

  it('ask calibrate for a PRM server or name, and search for one when its strategy needs it', () => {
    expect(() => parseCalibrateFlags(['--data', 'd.jsonl', '--backend', 'http://gpu:8000', '--out', 'o.json'])).toThrow(/--prm-backend URL or --prm-model NAME/u);
    expect(() => parseSearchFlags(['--backend', 'http://gpu:8000', '--strategy', 'beam', 'q'])).toThrow(/give --prm-model NAME or --prm-backend URL/u);
    const s = parseSearchFlags(['--backend', 'http://gpu:8000', '--strategy', 'majority', 'q']);
    expect(s !== 'help' && s.remote?.url).toBe('http://gpu:8000');
  });

  it('take the API key from THINKTREE_API_KEY unless --api-key is given', () => {
    expect(remoteFlags({ backend: 'http://gpu:8000' }, [], { THINKTREE_API_KEY: 'from-env' })?.apiKey).toBe('from-env');
    expect(remoteFlags({ backend: 'http://gpu:8000', 'api-key': 'flag' }, [], { THINKTREE_API_KEY: 'from-env' })?.apiKey).toBe('flag');
  });

  it('list the server flags in each command’s help', async () => {
    for (const command of [evalCommand, calibrateCommand, searchCommand]) {
      const { out } = await run(command, ['--help']);
      expect(out).toMatch(/--backend URL/u);
      expect(out).toMatch(/--prm-model NAME/u);
    }
  });
});

describe('commands against a server', () => {
  it('search answers a question through the servers', async () => {
    const server = await fake('k');
    const { code, out } = await run(searchCommand, ['--backend', server.url, '--prm-model', 'fake-prm', '--api-key', 'k', '--strategy', 'beam', '--n', '4', 'What is 3 + 4?']);
    expect(code).toBe(0);
    expect(out).toMatch(/[Aa]nswer/u);
    expect(server.requests.some((q) => q.path === '/pooling')).toBe(true);
    expect(server.requests.every((q) => q.headers.authorization === 'Bearer k')).toBe(true);
  });

  it('eval runs its grid through the servers and writes its report', async () => {
    const server = await fake();
    const data = path.join(tmp, 'd.jsonl');
    writeFileSync(data, ['{"problem":"1 + 1?","answer":"2","level":1}', '{"problem":"1 + 2?","answer":"3","level":2}'].join('\n'));
    const out = path.join(tmp, 'eval-out');
    const r = await run(evalCommand, ['--data', data, '--backend', server.url, '--prm-model', 'fake-prm', '--strategy', 'majority,beam', '--budget', '2', '--beam-width', '2', '--no-greedy', '--out', out]);
    expect(r.err).not.toMatch(/Error/u);
    expect(r.code).toBe(0);
    const md = readFileSync(path.join(out, 'results.md'), 'utf8');
    expect(md).toMatch(/beam/u);
    expect(md).toMatch(new RegExp(`served at ${server.url.replace(/[.]/gu, '\\.')}`, 'u'));
  });

  it('says which server could not be reached', async () => {
    const server = await startFakeVllm();
    const url = server.url;
    await server.close();
    // The command rejects with the error; the CLI's main prints its message.
    await expect(run(searchCommand, ['--backend', url, '--strategy', 'majority', '--n', '1', 'q'])).rejects.toThrow(
      new RegExp(`GET ${url}/v1/models: connection failed`, 'u'),
    );
  });
});
