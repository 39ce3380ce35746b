// Property tests of the three parsers a downloaded model folder feeds: config.json, tokenizer.json and
// the chat template. Whatever the input, each either returns a sound value or throws its own exported
// error class (never a TypeError from inside, never a hang); valid inputs keep their invariants.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyChatTemplate } from '../../lib/models/chat-template.js';
import { parseModelConfig, type ModelConfig } from '../../lib/models/config.js';
import { ChatTemplateError, ModelConfigError, TokenizerError } from '../../lib/models/errors.js';
import { TextTokenizer } from '../../lib/models/tokenizer.js';
import { OptionError } from '../../lib/errors.js';
import { CHATML_TEMPLATE, byteLevelTokenizerConfig, byteLevelTokenizerJson, metaspaceTokenizerJson, tinyConfig } from '../helpers/hf-files.js';

const RUNS = 300;

/** A JSON value: what a corrupted or hostile file can hold. */
const jsonValue = fc.jsonValue({ maxDepth: 3 });

/** `base` with some fields replaced by arbitrary JSON, some deleted. */
function mutated(base: Record<string, unknown>): fc.Arbitrary<Record<string, unknown>> {
  const keys = Object.keys(base);
  return fc
    .array(fc.tuple(fc.constantFrom(...keys, 'extra_field'), fc.option(jsonValue, { nil: undefined })), { minLength: 1, maxLength: 4 })
    .map((edits) => {
      const out: Record<string, unknown> = structuredClone(base);
      for (const [k, v] of edits) {
        if (v === undefined) delete out[k];
        else out[k] = v;
      }
      return out;
    });
}

function checkSound(c: ModelConfig): void {
  for (const v of [c.hiddenSize, c.intermediateSize, c.numLayers, c.numHeads, c.numKvHeads, c.headDim, c.vocabSize]) {
    expect(Number.isInteger(v) && v > 0).toBe(true);
  }
  expect(c.numHeads % c.numKvHeads).toBe(0);
  expect(c.rmsNormEps > 0 && Number.isFinite(c.rmsNormEps)).toBe(true);
  expect(c.ropeTheta > 0 && Number.isFinite(c.ropeTheta)).toBe(true);
}

describe('config.json parsing, fuzzed', () => {
  it('returns a sound config or a ModelConfigError for any mutation of a valid config', () => {
    for (const arch of ['LlamaForCausalLM', 'Qwen2ForCausalLM', 'MistralForCausalLM'] as const) {
      fc.assert(
        fc.property(mutated(tinyConfig(arch)), (json) => {
          let c: ModelConfig;
          try {
            c = parseModelConfig(json);
          } catch (err) {
            if (!(err instanceof ModelConfigError)) throw new Error(`threw ${String(err)} (not a ModelConfigError)`);
            expect((err as Error).message.startsWith('config.json')).toBe(true);
            return;
          }
          checkSound(c);
        }),
        { numRuns: RUNS, seed: 20261206 },
      );
    }
  });

  it('refuses any JSON value that is not an object', () => {
    fc.assert(
      fc.property(jsonValue.filter((v) => typeof v !== 'object' || v === null || Array.isArray(v)), (json) => {
        expect(() => parseModelConfig(json)).toThrow(ModelConfigError);
      }),
      { numRuns: 100, seed: 7 },
    );
  });
});

describe('tokenizer.json loading, fuzzed', () => {
  it('loads or throws TokenizerError for any mutation of the model or pre-tokenizer sections', () => {
    const base = byteLevelTokenizerJson();
    fc.assert(
      fc.property(
        fc.constantFrom('model', 'pre_tokenizer', 'decoder', 'added_tokens', 'normalizer'),
        jsonValue,
        (field, value) => {
          const json = { ...structuredClone(base), [field]: value };
          try {
            const t = TextTokenizer.fromJson(json, byteLevelTokenizerConfig());
            // Whatever loaded must work end to end on a plain text.
            const ids = t.encode('12 + 7 = 19');
            for (const id of ids) expect(id >= 0 && id < t.vocabSize).toBe(true);
            t.decode(ids);
          } catch (err) {
            if (!(err instanceof TokenizerError)) throw new Error(`threw ${String(err)} (not a TokenizerError)`);
          }
        },
      ),
      { numRuns: RUNS, seed: 42 },
    );
  });

  it('round-trips any text through a byte-level BPE tokenizer, and any ASCII word text through a metaspace one', () => {
    const byteLevel = TextTokenizer.fromJson(byteLevelTokenizerJson(), byteLevelTokenizerConfig());
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (text) => {
        // Special-token strings inside user text are tokenized as specials; keep them out of this property.
        fc.pre(!/<\|(endoftext|im_start|im_end)\|>/.test(text) && text.isWellFormed());
        expect(byteLevel.decode(byteLevel.encode(text, { addSpecialTokens: false }))).toBe(text);
      }),
      { numRuns: RUNS, seed: 1 },
    );
    const metaspace = TextTokenizer.fromJson(metaspaceTokenizerJson(), {});
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[a-z0-9]{1,6}$/), { minLength: 1, maxLength: 6 }), (words) => {
        const text = words.join(' ');
        expect(metaspace.decode(metaspace.encode(text, { addSpecialTokens: false }))).toBe(text);
      }),
      { numRuns: 100, seed: 2 },
    );
  });

  it('never decodes ids outside the vocabulary into text silently', () => {
    const t = TextTokenizer.fromJson(byteLevelTokenizerJson(), byteLevelTokenizerConfig());
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: t.vocabSize, max: 2 ** 31 - 1 }), fc.integer({ min: -(2 ** 31), max: -1 })), (id) => {
        expect(() => t.decode([id])).toThrow();
      }),
      { numRuns: 50, seed: 3 },
    );
  });
});

describe('chat templates, fuzzed', () => {
  const message = fc.record({ role: fc.constantFrom('system', 'user', 'assistant'), content: fc.string({ maxLength: 40 }) });

  it('renders any list of messages with ChatML, each content in order between its markers', () => {
    fc.assert(
      fc.property(fc.array(message, { maxLength: 8 }), fc.boolean(), (messages, addGenerationPrompt) => {
        const out = applyChatTemplate({ chat_template: CHATML_TEMPLATE }, messages, { addGenerationPrompt });
        const expected = messages.map((m) => `<|im_start|>${m.role}\n${m.content}<|im_end|>\n`).join('') + (addGenerationPrompt ? '<|im_start|>assistant\n' : '');
        expect(out).toBe(expected);
      }),
      { numRuns: RUNS, seed: 5 },
    );
  });

  it('returns text or a ChatTemplateError for any template source, within its bounds', () => {
    const pieces = fc.constantFrom(
      '{{ ', ' }}', '{% ', ' %}', 'for m in messages', 'endfor', 'if ', 'endif', 'else', 'messages', 'm.content', 'range(',
      ')', '10**9', '* 1000', '~', ' + ', '"x"', 'loop.index', 'set ns = namespace(s="")', 'ns.s', '|length', '|join(", ")',
      'raise_exception("no")', 'macro f(x)', 'endmacro', 'f(f)', '[', ']', 'not ', ' in ', 'true', 'none', '\n', 'abc',
    );
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 24 }), fc.array(message, { maxLength: 3 }), (parts, messages) => {
        const source = parts.join('');
        try {
          const out = applyChatTemplate({ chat_template: source }, messages, { limits: { maxSteps: 100_000, timeoutMs: 500, maxChars: 1 << 20 } });
          expect(typeof out).toBe('string');
          expect(out.length).toBeLessThanOrEqual(1 << 20);
        } catch (err) {
          if (!(err instanceof ChatTemplateError)) throw new Error(`template ${JSON.stringify(source)} threw ${String(err)} (not a ChatTemplateError)`);
        }
      }),
      { numRuns: 1000, seed: 11 },
    );
  });

  it('refuses messages that are not {role, content} objects with an OptionError naming the index', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(jsonValue, message), { minLength: 1, maxLength: 5 }), (messages) => {
        const bad = messages.findIndex((m) => typeof m !== 'object' || m === null || Array.isArray(m) || typeof (m as { role?: unknown }).role !== 'string' || typeof (m as { content?: unknown }).content !== 'string');
        fc.pre(bad >= 0);
        expect(() => applyChatTemplate({ chat_template: CHATML_TEMPLATE }, messages as never)).toThrow(OptionError);
        expect(() => applyChatTemplate({ chat_template: CHATML_TEMPLATE }, messages as never)).toThrow(`messages[${bad}]`);
      }),
      { numRuns: 200, seed: 13 },
    );
  });
});
