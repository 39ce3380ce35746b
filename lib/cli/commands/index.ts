import { benchCommand } from './bench.js';
import { calibrateCommand } from './calibrate.js';
import { convertCommand } from './convert.js';
import { dataCommand } from './data.js';
import { demoCommand } from './demo.js';
import { evalCommand } from './eval.js';
import { runCommand } from './run.js';
import { searchCommand } from './search.js';
import { serveCommand } from './serve.js';
import { tpoCommand } from './tpo.js';
import type { Command } from './types.js';

export type { Command, CommandIo } from './types.js';

/** Every `thinktree <command>`, by name. */
export const commands: Record<string, Command> = {
  run: runCommand,
  search: searchCommand,
  data: dataCommand,
  bench: benchCommand,
  eval: evalCommand,
  calibrate: calibrateCommand,
  convert: convertCommand,
  demo: demoCommand,
  serve: serveCommand,
  tpo: tpoCommand,
};
