// The package's `evaluation` namespace: lib/eval's API, plus the progress bar it has always carried
// (CLI code, in lib/cli/progress.ts; lib/eval itself does not import the CLI).
export * from './eval/index.js';
export { ProgressBar, type ProgressBarOptions } from './cli/progress.js';
