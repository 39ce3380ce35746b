// `thinktree serve` from the command line: flags checked before loading, the URL printed, a graceful
// close when told to stop.
import { describe, expect, it } from 'vitest';
import { main } from '../../lib/cli/main.js';
import { parseServeFlags, runServe } from '../../lib/cli/commands/serve.js';

function io() {
  const out = { stdout: '', stderr: '' };
  return { out, io: { stdout: (s: string) => void (out.stdout += s), stderr: (s: string) => void (out.stderr += s) } };
}

describe('thinktree serve', () => {
  it('prints the URL, serves, and closes when stopped', async () => {
    const { out, io: cli } = io();
    let stop!: () => void;
    const stopped = new Promise<void>((r) => (stop = r));
    const running = runServe(['--port', '0', '--threads', '1', '--kv-cache-bytes', String(16 << 20)], cli, () => stopped);
    for (let i = 0; i < 500 && !out.stdout.includes('\n'); i++) await new Promise((r) => setTimeout(r, 20));
    const url = out.stdout.trim();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(`${url}/health`)).status).toBe(200);
    stop();
    expect(await running).toBe(0);
    await expect(fetch(`${url}/health`)).rejects.toThrow();
  });

  it('fails with the listen error when the port is taken, and exits 1', async () => {
    const { startServer } = await import('./helpers.js');
    const first = await startServer();
    try {
      const { out, io: cli } = io();
      expect(await main(['serve', '--port', String(first.port), '--threads', '1', '--kv-cache-bytes', String(16 << 20)], cli)).toBe(1);
      expect(out.stderr).toMatch(/EADDRINUSE/);
    } finally {
      await first.close();
    }
  });

  it('takes the API key from THINKTREE_API_KEY when --api-key is not given', () => {
    const o = parseServeFlags(['--port', '0'], { THINKTREE_API_KEY: 'k1' });
    expect(o !== 'help' && o.apiKey).toBe('k1');
    const flag = parseServeFlags(['--api-key', 'k2'], { THINKTREE_API_KEY: 'k1' });
    expect(flag !== 'help' && flag.apiKey).toBe('k2');
  });

  it.each([
    [['--port', '70000'], '--port must be an integer in 0..65535'],
    [['--max-queue', '0'], '--max-queue must be'],
    [['--model', '/nonexistent/dir'], 'no config.json'],
    [['--max-queu', '3'], 'did you mean --max-queue?'],
  ])('refuses %j with exit code 2 before loading anything', async (argv, message) => {
    const { out, io: cli } = io();
    expect(await main(['serve', ...argv], cli)).toBe(2);
    expect(out.stderr).toContain(message);
    expect(out.stderr).toContain('Usage: thinktree serve');
  });
});
