import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyChatTemplate } from '../../lib/models/chat-template.js';
import { ChatTemplateError } from '../../lib/models/errors.js';
import { TextTokenizer } from '../../lib/models/tokenizer.js';
import { CHATML_TEMPLATE, byteLevelTokenizerConfig, tempDir, writeModelDir } from '../helpers/hf-files.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(() => cleanup());

const messages = [
  { role: 'system', content: 'Solve step by step.' },
  { role: 'user', content: 'What is 2+2?' },
];
const CHATML = '<|im_start|>system\nSolve step by step.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n';

describe('chat templates', () => {
  it('render ChatML messages', () => {
    expect(applyChatTemplate({ chat_template: CHATML_TEMPLATE }, messages)).toBe(CHATML);
  });

  it('append the assistant header when asked for a generation prompt', () => {
    expect(applyChatTemplate({ chat_template: CHATML_TEMPLATE }, messages, { addGenerationPrompt: true })).toBe(
      CHATML + '<|im_start|>assistant\n',
    );
  });

  it('see bos_token and eos_token from tokenizer_config.json, including AddedToken objects', () => {
    const config = { chat_template: '{{ bos_token }}{{ messages[0].content }}{{ eos_token }}', bos_token: { content: '<s>' }, eos_token: '</s>' };
    expect(applyChatTemplate(config, [{ role: 'user', content: 'hi' }])).toBe('<s>hi</s>');
  });

  it('pick the default template of a list of named templates', () => {
    const config = {
      chat_template: [
        { name: 'tool_use', template: 'tools' },
        { name: 'default', template: '{{ messages | length }}' },
      ],
    };
    expect(applyChatTemplate(config, messages)).toBe('2');
  });

  it('raise a clear error when the model has no template', () => {
    expect(() => applyChatTemplate({}, messages)).toThrow(ChatTemplateError);
    expect(() => applyChatTemplate({}, messages)).toThrow(/this model has no chat template/);
  });

  it("surface a template's raise_exception as a ChatTemplateError", () => {
    const config = { chat_template: "{{ raise_exception('only user messages') }}" };
    expect(() => applyChatTemplate(config, messages)).toThrow(/failed to render: .*only user messages/);
  });

  it('reach the tokenizer through TextTokenizer.applyChatTemplate, reading chat_template.jinja when the config has none', async () => {
    const modelDir = path.join(dir, 'jinja');
    const { chat_template: _, ...config } = byteLevelTokenizerConfig();
    await writeModelDir(modelDir, { tokenizerConfig: config });
    await writeFile(path.join(modelDir, 'chat_template.jinja'), CHATML_TEMPLATE);
    const tok = await TextTokenizer.fromDirectory(modelDir);
    expect(tok.applyChatTemplate(messages)).toBe(CHATML);
    await rm(path.join(modelDir, 'chat_template.jinja'));
  });
});
