/**
 * `thinktree convert DIR --to TYPE --out model.gguf`: a Hugging Face directory (Llama, Mistral,
 * Qwen2) written as one GGUF file that llama.cpp and thinktree both load. Quantized targets need the
 * addon's quantized kernels.
 */
import { GGUF_TARGET_TYPES, exportGguf, type GgufTargetType } from '../../models/gguf/export.js';
import { didYouMean, parseCommandLine, str, UsageError } from '../flags.js';
import type { Command, CommandIo } from './types.js';

const HELP = `Usage: thinktree convert DIR --to TYPE --out FILE.gguf

Writes the model in DIR (config.json, tokenizer.json, safetensors) as a GGUF file.

Options:
  --to TYPE      weight type of the matrices: ${GGUF_TARGET_TYPES.join(', ')}
                 (norms and biases stay f32, as llama.cpp keeps them)
  --out FILE     the .gguf file to write
  -h, --help     show this help
`;

const FLAGS = { to: { type: 'string' }, out: { type: 'string' } } as const;

interface ConvertArgs {
  dir: string;
  to: GgufTargetType;
  out: string;
}

function parse(argv: string[]): ConvertArgs | 'help' {
  const { values, positionals } = parseCommandLine(argv, FLAGS, { positionals: true });
  if (values.help) return 'help';
  if (positionals.length !== 1) throw new UsageError(`expected one model directory, got ${positionals.length === 0 ? 'none' : positionals.join(' ')}`);
  const to = str(values, 'to');
  if (to === undefined) throw new UsageError('Missing required flag --to');
  if (!(GGUF_TARGET_TYPES as readonly string[]).includes(to)) {
    throw new UsageError(`--to must be one of ${GGUF_TARGET_TYPES.join(', ')}, got '${to}'${didYouMean(to, GGUF_TARGET_TYPES)}`);
  }
  const out = str(values, 'out');
  if (out === undefined) throw new UsageError('Missing required flag --out');
  return { dir: positionals[0]!, to: to as GgufTargetType, out };
}

async function run(argv: string[], io: CommandIo): Promise<number> {
  let args: ConvertArgs | 'help';
  try {
    args = parse(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr(`thinktree convert: ${err.message}\n\n${HELP}`);
    return 2;
  }
  if (args === 'help') {
    io.stdout(HELP);
    return 0;
  }
  try {
    await exportGguf(args.dir, args.out, { type: args.to });
  } catch (err) {
    io.stderr(`thinktree convert: ${(err as Error).message}\n`);
    return 1;
  }
  io.stdout(`Wrote ${args.out} (${args.to})\n`);
  return 0;
}

export const convertCommand: Command = { summary: 'write a Hugging Face model directory as a GGUF file', run };
