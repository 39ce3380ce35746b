import { loadModel } from '../../models/model.js';
import { checkSampling } from '../../models/sampling.js';
import { asUsage, intFlag, numberFlag, parseCommandLine, str, strs, UsageError, withUsage, type CliIo } from '../flags.js';
import type { Command } from './types.js';

const HELP = `Usage: thinktree run --model DIR [options] PROMPT

Generates a continuation of PROMPT with the model in DIR (Hugging Face layout).

Options:
  --model DIR          model directory (config.json, *.safetensors, tokenizer.json) or a .gguf file
  --max-tokens N       most tokens to generate (default 128)
  --temperature T      0 = greedy (default 0)
  --top-p P            nucleus mass (default 1)
  --top-k K            keep the K most likely tokens, 0 = off (default 0)
  --seed S             sampler seed (default 0)
  --stop STR           stop string (repeatable; \\n escapes allowed)
  --chat               format PROMPT with the model's chat template
  --threads N          kernel threads (default: all cores)
  -h, --help           show this help
`;

function unescape(s: string): string {
  return s.replace(/\\n/g, '\n').replace(/\\t/g, '\t');
}

const FLAGS = {
  model: { type: 'string' },
  'max-tokens': { type: 'string' },
  temperature: { type: 'string' },
  'top-p': { type: 'string' },
  'top-k': { type: 'string' },
  seed: { type: 'string' },
  stop: { type: 'string', multiple: true },
  chat: { type: 'boolean' },
  threads: { type: 'string' },
} as const;

async function runRun(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandLine(argv, FLAGS, { positionals: true });
  if (values.help) {
    io.stdout(HELP);
    return 0;
  }
  const dir = str(values, 'model');
  if (dir === undefined) throw new UsageError('Missing required flag --model DIR');
  if (positionals.length !== 1) throw new UsageError(`Expected one PROMPT argument, got ${positionals.length}`);
  const threads = values.threads === undefined ? undefined : intFlag('threads', str(values, 'threads'), 1, 1, 1024);
  const maxTokens = intFlag('max-tokens', str(values, 'max-tokens'), 128, 1);
  const seed = intFlag('seed', str(values, 'seed'), 0, 0);
  const sampling = asUsage(() =>
    checkSampling({
      temperature: numberFlag('temperature', str(values, 'temperature'), 0, 0, Number.MAX_VALUE),
      topP: numberFlag('top-p', str(values, 'top-p'), 1, 0, 1),
      topK: intFlag('top-k', str(values, 'top-k'), 0, 0),
    }),
  );
  const stop = strs(values, 'stop').map(unescape);
  const model = await loadModel(dir, { threads });
  try {
    let prompt = positionals[0]!;
    if (values.chat) prompt = model.chatPrompt([{ role: 'user', content: prompt }]);
    const result = await model.generate(prompt, { maxTokens, ...sampling, seed, stop });
    io.stdout(result.text + '\n');
    io.stderr(`[${result.tokens.length} tokens, finish: ${result.finishReason}, device: ${model.info.device}/${model.info.isa}/${model.info.precision}]\n`);
    return 0;
  } finally {
    model.dispose();
  }
}

export const runCommand: Command = {
  summary: 'generate text from a prompt with a model directory',
  run: (argv, io) => withUsage('run', HELP, io, () => runRun(argv, io)),
};
