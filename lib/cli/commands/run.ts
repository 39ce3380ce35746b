import { parseArgs } from 'node:util';
import { loadModel } from '../../models/model.js';
import type { Command } from './types.js';

const HELP = `Usage: thinktree run --model DIR [options] PROMPT

Generates a continuation of PROMPT with the model in DIR (Hugging Face layout).

Options:
  --model DIR          model directory (config.json, *.safetensors, tokenizer.json)
  --max-tokens N       most tokens to generate (default 128)
  --temperature T      0 = greedy (default 0)
  --top-p P            nucleus mass (default 1)
  --top-k K            keep the K most likely tokens, 0 = off (default 0)
  --seed S             sampler seed (default 0)
  --stop STR           stop string (repeatable; \\n escapes allowed)
  --chat               format PROMPT with the model's chat template
  --threads N          kernel threads (default: all cores)
`;

function unescape(s: string): string {
  return s.replace(/\\n/g, '\n').replace(/\\t/g, '\t');
}

function numberFlag(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`--${name} expects a number, got '${v}'`);
  return n;
}

export const runCommand: Command = {
  summary: 'generate text from a prompt with a model directory',
  async run(argv, io) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        model: { type: 'string' },
        'max-tokens': { type: 'string' },
        temperature: { type: 'string' },
        'top-p': { type: 'string' },
        'top-k': { type: 'string' },
        seed: { type: 'string' },
        stop: { type: 'string', multiple: true },
        chat: { type: 'boolean' },
        threads: { type: 'string' },
        help: { type: 'boolean' },
      },
    });
    if (values.help) {
      io.stdout(HELP);
      return 0;
    }
    if (values.model === undefined) throw new Error('--model DIR is required');
    if (positionals.length !== 1) throw new Error(`expected one PROMPT argument, got ${positionals.length}`);
    const model = await loadModel(values.model, {
      threads: values.threads === undefined ? undefined : numberFlag('threads', values.threads, 1),
    });
    try {
      let prompt = positionals[0];
      if (values.chat) prompt = model.chatPrompt([{ role: 'user', content: prompt }]);
      const result = await model.generate(prompt, {
        maxTokens: numberFlag('max-tokens', values['max-tokens'], 128),
        temperature: numberFlag('temperature', values.temperature, 0),
        topP: numberFlag('top-p', values['top-p'], 1),
        topK: numberFlag('top-k', values['top-k'], 0),
        seed: numberFlag('seed', values.seed, 0),
        stop: (values.stop ?? []).map(unescape),
      });
      io.stdout(result.text + '\n');
      io.stderr(`[${result.tokens.length} tokens, finish: ${result.finishReason}, device: ${model.info.device}/${model.info.isa}/${model.info.precision}]\n`);
      return 0;
    } finally {
      model.dispose();
    }
  },
};
