// Thought Preference Optimization (Wu et al. 2024): the data side of a TPO iteration and its measurement.
export {
  ANSWER_LINE_PROMPT, GENERIC_THOUGHT_PROMPT, INSTRUCTION_SLOT, SPECIFIC_THOUGHT_PROMPT, THOUGHT_PROMPTS, applyThoughtPrompt,
  checkThoughtPrompt, type ThoughtPrompt,
} from './prompt.js';
export { SPLIT_FAILURES, splitThought, type SplitFailure, type ThoughtSplit } from './split.js';
export { judgeScores, type JudgeItem, type ResponseJudge } from './judge.js';
export { taskJudge } from './judge-task.js';
export { backendPrmJudge, prmJudge } from './judge-prm.js';
export { ormJudge } from './judge-orm.js';
export { lengthControlled, zScores } from './length-control.js';
export { choosePair, type PairChoice } from './pairs.js';
export { pairRecordProblems, pairsJsonl, type ChatTurn, type PairRecord } from './records.js';
export { statsOf, summarize, type PairsSummary, type PromptOutcome, type Stats } from './summary.js';
export { sampleOutputs, type SampleRequest, type SampledOutput } from './sample.js';
export { makePairs, type MakePairsOptions, type MakePairsResult, type TpoSampling } from './make-pairs.js';
export { loadPrompts, parsePrompts, type TpoPrompt } from './prompts-file.js';
export { evaluateThoughts, type EvalRow, type EvaluateOptions, type EvaluateResult, type LevelSummary, type TpoEvalMode } from './evaluate.js';
