// Every command goes through one flag parser: -h prints its help and exits 0; an unknown flag or command
// exits 2 with a sentence naming it and the name meant. No model is loaded on any of these paths.
import { describe, expect, it } from 'vitest';
import { commands } from '../../lib/cli/commands/index.js';
import { editDistance, nearest } from '../../lib/cli/flags.js';
import { main } from '../../lib/cli/main.js';

async function cli(argv: string[]) {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: (s) => void (out += s), stderr: (s) => void (err += s) });
  return { code, out, err };
}

/** Each command (data through its subcommand) with a slip of one of its flags and the flag meant. */
const SLIPS: Record<string, { argv: string[]; usage: string; slip: string; meant: string }> = {
  run: { argv: ['run'], usage: 'Usage: thinktree run ', slip: '--modle', meant: '--model' },
  bench: { argv: ['bench'], usage: 'Usage: thinktree bench ', slip: '--thread', meant: '--threads' },
  eval: { argv: ['eval'], usage: 'Usage: thinktree eval ', slip: '--budgte', meant: '--budget' },
  calibrate: { argv: ['calibrate'], usage: 'Usage: thinktree calibrate ', slip: '--difficulty-sample', meant: '--difficulty-samples' },
  demo: { argv: ['demo'], usage: 'Usage: thinktree demo ', slip: '--per-levle', meant: '--per-level' },
  search: { argv: ['search'], usage: 'Usage: thinktree search ', slip: '--beam-widht', meant: '--beam-width' },
  data: { argv: ['data', 'gen'], usage: 'Usage: thinktree data gen ', slip: '--levle', meant: '--level' },
  serve: { argv: ['serve'], usage: 'Usage: thinktree serve ', slip: '--max-queu', meant: '--max-queue' },
  tpo: { argv: ['tpo'], usage: 'Usage: thinktree tpo ', slip: '--lenght-penalty', meant: '--length-penalty' },
  convert: { argv: ['convert'], usage: 'Usage: thinktree convert ', slip: '--outt', meant: '--out' },
};

describe('every command', () => {
  it('is covered here', () => {
    expect(Object.keys(SLIPS).sort()).toEqual(Object.keys(commands).sort());
  });

  describe.each(Object.entries(SLIPS))('%s', (_, { argv, usage, slip, meant }) => {
    it.each(['-h', '--help'])('prints its help with %s and exits 0', async (flag) => {
      const { code, out, err } = await cli([...argv, flag]);
      expect(code).toBe(0);
      expect(out.startsWith(usage)).toBe(true);
      expect(out).toMatch(/-h, --help/);
      expect(err).toBe('');
    });

    it('refuses an unknown flag with exit code 2 and names the flag meant', async () => {
      const { code, out, err } = await cli([...argv, slip, '1']);
      expect(code).toBe(2);
      expect(err).toContain(`Unknown flag ${slip}; did you mean ${meant}?`);
      expect(err).toContain(usage);
      expect(out).toBe('');
    });
  });

  it('data prints its own help with -h and exits 0', async () => {
    const { code, out } = await cli(['data', '-h']);
    expect(code).toBe(0);
    expect(out.startsWith('Usage: thinktree data <subcommand>')).toBe(true);
  });
});

describe('an unknown command or subcommand', () => {
  it('exits 2 and names the command meant', async () => {
    const { code, err } = await cli(['evl', '--help']);
    expect(code).toBe(2);
    expect(err).toContain("unknown command 'evl'; did you mean 'eval'?");
  });

  it('exits 2 without a guess when nothing is near', async () => {
    const { code, err } = await cli(['frobnicate']);
    expect(code).toBe(2);
    expect(err).toContain("unknown command 'frobnicate'\n");
  });

  it('data: exits 2 and names the subcommand meant', async () => {
    const { code, err } = await cli(['data', 'gne']);
    expect(code).toBe(2);
    expect(err).toContain("unknown subcommand 'gne'; did you mean 'gen'?");
  });
});

describe('run and bench flag values', () => {
  it.each([
    [['run', '--model', '/nonexistent', '--max-tokens', '1.5', 'p'], /--max-tokens must be an integer ≥ 1, got '1\.5'/],
    [['run', '--model', '/nonexistent', '--top-p', '0', 'p'], /Expected `topP` to be a number in \(0, 1\], got 0/],
    [['run', '--model', '/nonexistent'], /Expected one PROMPT argument, got 0/],
    [['run', 'p'], /Missing required flag --model DIR/],
    [['bench', '--threads', '0'], /--threads must be an integer ≥ 1, got '0'/],
    [['bench', '--only', 'gem'], /--only: unknown suite 'gem' .*; did you mean 'gemm'\?/],
    [['bench', '--shape', 'qwen2.5-1.5'], /--shape: unknown shape 'qwen2\.5-1\.5' \(known: qwen2\.5-0\.5b, qwen2\.5-1\.5b\); did you mean 'qwen2\.5-1\.5b'\?/],
    [['bench', '--weights', 'q4k'], /--weights: unknown weights 'q4k' \(known: bf16, q8_0, q6_k, q4_k, q4_0\); did you mean 'q4_k'\?/],
  ])('%j is a usage error (exit 2) before anything loads', async (argv, message) => {
    const { code, err } = await cli(argv);
    expect(code).toBe(2);
    expect(err).toMatch(message);
  });
});

describe('the near-miss guess', () => {
  it('counts a swap of neighbours as one edit', () => {
    expect(editDistance('modle', 'model')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });

  it('guesses only names a third of the letters away at most', () => {
    expect(nearest('thread', ['threads', 'only'])).toBe('threads');
    expect(nearest('bogus', ['budget', 'beam-width'])).toBeUndefined();
  });
});
