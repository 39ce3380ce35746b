import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyChatTemplate } from '../../lib/models/chat-template.js';
import { strftime, type TemplateLimits } from '../../lib/models/template-render.js';
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

describe('chat templates from untrusted files are bounded', () => {
  const messages = [{ role: 'user', content: 'hi' }];
  const render = (t: string, limits?: TemplateLimits) => () => applyChatTemplate({ chat_template: t }, messages, { limits });

  it('stop a loop of 10^8 iterations at the step limit, quickly and without growing the heap', () => {
    const t0 = Date.now();
    expect(render('{% for i in range(100000000) %}x{% endfor %}')).toThrow(ChatTemplateError);
    expect(render('{% for i in range(100000000) %}x{% endfor %}')).toThrow(/range\(\) for 100000000 items, more than 1000000/);
    // Nested loops each under the list cap: the step counter stops them.
    expect(render('{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}')).toThrow(/longer than 2000 ms/);
    expect(render('{% for i in range(1000000) %}{% for j in range(3) %}{{ j }}{% endfor %}{% endfor %}', { timeoutMs: 1e9, maxSteps: 100_000 })).toThrow(/more than 100000 steps/);
    expect(Date.now() - t0).toBeLessThan(60_000); // generous: the point is that it ends
  });

  it('stop strings that double past the size limit, and honour custom limits', () => {
    const doubling = "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s }}";
    expect(render(doubling)).toThrow(/string of \d+ characters, more than 16777216/);
    const grow = "{% set ns = namespace(s='') %}{% for i in range(20) %}{% set ns.s = ns.s + 'ab' %}{% endfor %}{{ ns.s }}";
    expect(render(grow, { maxChars: 10 })).toThrow(/string of 12 characters, more than 10/);
    expect(render(grow, { maxChars: 40 })()).toBe('ab'.repeat(20));
    expect(render('{% for m in messages %}{{ m.content }}{% endfor %}', { maxSteps: 3 })).toThrow(/more than 3 steps/);
    expect(render('{% for i in range(5) %}{{ i }}{% endfor %}', { maxItems: 4 })).toThrow(/range\(\) for 5 items, more than 4/);
  });

  it('stop at the time limit', () => {
    // 10^6 steps fit the step limit; 1 ms does not fit them.
    expect(render('{% for i in range(300000) %}{{ i }}{% endfor %}', { timeoutMs: 1, maxSteps: 1e9 })).toThrow(/longer than 1 ms/);
  });

  it('keep real templates and the transformers globals working', () => {
    expect(render('{% for i in range(1, 7, 2) %}{{ i }}{% endfor %}|{{ true }}{{ none is none }}')()).toBe('135|truetrue');
    expect(render('{{ strftime_now("%Y") }}')()).toBe(String(new Date().getFullYear()));
  });

  it('format dates as Python strftime does in the C locale', () => {
    const d = new Date(2024, 6, 4, 15, 5, 9); // 4 July 2024, a Thursday, day 186
    expect(strftime(d, '%d %b %Y')).toBe('04 Jul 2024');
    expect(strftime(d, '%A %B %y %H:%M:%S %I%p %j %a %m %%')).toBe('Thursday July 24 15:05:09 03PM 186 Thu 07 %');
  });
});
