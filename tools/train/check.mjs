#!/usr/bin/env node
// The exact step checker as a filter for the Python tools: one JSON object per stdin line,
// {"structured": {...}, "text": "..."}, answered by one line per input, in order:
// {"solved", "answerCorrect", "firstError", "steps": [{"start", "end", "kind", "correct", "reasons"}]}
// where [start, end) is each step's character range in `text` (see lib/tasks/arithmetic/checker.ts).

import { createInterface } from 'node:readline';
import { checkSolution } from './dist/tasks/arithmetic/index.js';

const out = [];
const flush = () => {
  if (out.length > 0) process.stdout.write(out.join(''));
  out.length = 0;
};
for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  if (line.trim() === '') continue;
  const { structured, text } = JSON.parse(line);
  const r = checkSolution(structured, text);
  out.push(`${JSON.stringify({
    solved: r.solved,
    answerCorrect: r.answer.correct,
    firstError: r.firstError,
    steps: r.steps.map((s) => ({ start: s.start, end: s.end, kind: s.kind, correct: s.correct, reasons: s.reasons })),
  })}\n`);
  if (out.length >= 1000) flush();
}
flush();
