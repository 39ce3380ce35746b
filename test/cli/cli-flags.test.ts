// Flag mistakes of eval, calibrate and demo: each is a sentence naming the flag, exit code 2, and no
// model is loaded (the model paths here do not exist, so a load would fail differently).
import { describe, expect, it } from 'vitest';
import { calibrateCommand, parseCalibrateFlags } from '../../lib/cli/commands/calibrate.js';
import { demoCommand } from '../../lib/cli/commands/demo.js';
import { evalCommand, parseEvalFlags } from '../../lib/cli/commands/eval.js';
import type { Command } from '../../lib/cli/commands/types.js';

async function run(command: Command, argv: string[]) {
  let out = '';
  let err = '';
  const code = await command.run(argv, { stdout: (s) => void (out += s), stderr: (s) => void (err += s) });
  return { code, out, err };
}

const BASE = ['--data', '/nonexistent/d.jsonl', '--model', '/nonexistent/policy'];

describe('thinktree eval flags', () => {
  it('prints its help with --help', async () => {
    const { code, out } = await run(evalCommand, ['--help']);
    expect(code).toBe(0);
    expect(out).toMatch(/^Usage: thinktree eval --data FILE\.jsonl --model DIR/);
  });

  it.each([
    ['no --data', ['--model', 'm'], /Missing required flag --data/],
    ['no --model', ['--data', 'd.jsonl'], /Missing required flag --model/],
    ['an unknown flag', [...BASE, '--bogus', '1'], /Unknown flag --bogus/],
    ['a flag without its value', [...BASE, '--budget'], /Missing value for --budget/],
    ['an unknown strategy', [...BASE, '--strategy', 'majority,beem'], /Unknown strategy `beem`; known strategies: greedy, majority, .*compute-optimal/],
    ['a bad budget list', [...BASE, '--budget', '1,four'], /Budgets must be positive integers separated by commas, got '1,four'/],
    ['a budget the beam width does not divide', [...BASE, '--prm', 'p', '--strategy', 'beam', '--budget', '4,6', '--beam-width', '4'], /Budget 6 is not divisible by beam width 4/],
    ['a strategy that needs a PRM without --prm', [...BASE, '--strategy', 'beam', '--budget', '4'], /beam at budget 4: .*pass a PRM/],
    ['compute-optimal without --calibration', [...BASE, '--prm', 'p', '--strategy', 'compute-optimal'], /needs a calibration table/],
    ['a zero concurrency', [...BASE, '--concurrency', '0'], /--concurrency must be an integer ≥ 1, got '0'/],
    ['a fractional limit', [...BASE, '--limit', '2.5'], /--limit must be an integer ≥ 1, got '2.5'/],
    ['a negative seed', [...BASE, '--seed=-1'], /--seed must be an integer ≥ 0/],
    ['a temperature that is not a number', [...BASE, '--temperature', 'hot'], /--temperature must be a number/],
    ['an unknown aggregation', [...BASE, '--aggregation', 'max'], /--aggregation must be one of last, min, prod, mean, got 'max'/],
    ['a malformed level-groups spec', [...BASE, '--level-groups', '1..2'], /Level groups look like 1-2,3,4-5/],
  ])('refuses %s with exit code 2', async (_, argv, message) => {
    const { code, err } = await run(evalCommand, argv);
    expect(code).toBe(2);
    expect(err).toMatch(message);
    expect(err).toContain('Usage: thinktree eval');
  });

  it('names the data file it cannot read (after the flags passed)', async () => {
    await expect(run(evalCommand, [...BASE, '--budget', '1'])).rejects.toThrow(/Cannot read data file \/nonexistent\/d\.jsonl/);
  });
});

describe('thinktree calibrate flags', () => {
  const CAL = [...BASE, '--prm', '/nonexistent/prm', '--out', '/tmp/never.json'];

  it.each([
    ['no --prm', [...BASE, '--out', 'x.json'], /Missing required flag --prm/],
    ['no --out', [...BASE, '--prm', 'p'], /Missing required flag --out/],
    ['a budget not above the difficulty samples', [...CAL, '--budget', '2,16'], /Budget 2 leaves nothing after 2 difficulty samples/],
    ['zero difficulty samples', [...CAL, '--difficulty-samples', '0'], /--difficulty-samples must be an integer ≥ 1/],
    ['an unknown aggregation', [...CAL, '--aggregation', 'sum'], /--aggregation must be one of last, min, prod, mean, got 'sum'/],
  ])('refuses %s with exit code 2', async (_, argv, message) => {
    const { code, err } = await run(calibrateCommand, argv);
    expect(code).toBe(2);
    expect(err).toMatch(message);
  });
});

describe('the search flags eval and calibrate share', () => {
  it('pass the aggregation, sampling and step limits to every search, with the shared defaults', () => {
    const flags = ['--temperature', '0.5', '--max-step-tokens', '32', '--max-iterations', '7', '--aggregation', 'prod'];
    const want = { temperature: 0.5, maxStepTokens: 32, maxIterations: 7, aggregation: 'prod' };
    const evalFlags = parseEvalFlags([...BASE, ...flags]);
    const calFlags = parseCalibrateFlags([...BASE, '--prm', 'p', '--out', 'o.json', ...flags]);
    expect(evalFlags !== 'help' && evalFlags.params).toEqual(want);
    expect(calFlags !== 'help' && calFlags.params).toEqual(want);
    const plain = parseEvalFlags(BASE);
    expect(plain !== 'help' && plain.params).toEqual({ temperature: 0.8, maxStepTokens: 64, maxIterations: 10, aggregation: 'min' });
  });
});

describe('thinktree demo flags', () => {
  it('refuses a positional argument', async () => {
    const { code, err } = await run(demoCommand, ['now']);
    expect(code).toBe(2);
    expect(err).toMatch(/Unexpected argument now/);
  });

  it('says which shipped model is missing', async () => {
    await expect(run(demoCommand, ['--models', '/nonexistent/models'])).rejects.toThrow(
      /The demo needs the shipped policy in \/nonexistent\/models\/policy/,
    );
  });
});
