import type { Engine } from '../engine/engine.js';
import type { CommandIo } from './commands/types.js';

/** Warns when searches left KV pages behind: every page must be back once all searches have ended. */
export function reportKvLeaks(engine: Engine, io: CommandIo): void {
  const kv = engine.kvStats();
  for (const [name, s] of [['policy', kv.policy], ['prm', kv.prm]] as const) {
    if (s !== null && s.pagesFree !== s.pagesTotal) {
      io.stderr(`warning: ${s.pagesTotal - s.pagesFree} ${name} KV pages still in use after every search ended\n`);
    }
  }
}
