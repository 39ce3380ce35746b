/**
 * A text progress bar for stderr. On a terminal it redraws one line with `\r`; elsewhere (a log file, a
 * CI pipe) it prints a plain line at every tenth of the work, so logs stay readable.
 */

import { formatDuration } from '../eval/duration.js';
import type { CommandIo } from './commands/types.js';

export interface ProgressBarOptions {
  write: (text: string) => void;
  /** Redraw in place (a terminal) or print plain lines. */
  isTTY: boolean;
  /** Shown before the bar. */
  label: string;
  /** Bar cells. @default 24 */
  width?: number;
  /** Least time between two terminal redraws. @default 100 */
  redrawMs?: number;
  /** @default performance.now */
  now?: () => number;
}

export class ProgressBar {
  private readonly width: number;
  private readonly redrawMs: number;
  private readonly now: () => number;
  private readonly started: number;
  private lastDraw = -Infinity;
  private lastTenth = -1;
  private lastLength = 0;
  private finished = false;

  constructor(private readonly options: ProgressBarOptions) {
    this.width = options.width ?? 24;
    this.redrawMs = options.redrawMs ?? 100;
    this.now = options.now ?? (() => performance.now());
    this.started = this.now();
  }

  /** The line for `fraction` of the work done; `detail` says what is running. */
  line(fraction: number, detail: string): string {
    const f = Math.min(1, Math.max(0, fraction));
    const filled = Math.round(f * this.width);
    const elapsed = this.now() - this.started;
    const eta = f > 0 && f < 1 ? `, ~${formatDuration((elapsed * (1 - f)) / f)} left` : '';
    const bar = '#'.repeat(filled) + '.'.repeat(this.width - filled);
    return `${this.options.label} [${bar}] ${(100 * f).toFixed(0).padStart(3)}% ${detail} (${formatDuration(elapsed)}${eta})`;
  }

  update(fraction: number, detail: string): void {
    if (this.finished) return;
    const t = this.now();
    if (this.options.isTTY) {
      if (fraction < 1 && t - this.lastDraw < this.redrawMs) return;
      this.lastDraw = t;
      const text = this.line(fraction, detail);
      // Pad with spaces so a shorter line fully covers the previous one.
      this.options.write(`\r${text.padEnd(this.lastLength)}`);
      this.lastLength = text.length;
      return;
    }
    const tenth = Math.floor(Math.min(1, fraction) * 10);
    if (tenth > this.lastTenth) {
      this.lastTenth = tenth;
      this.options.write(`${this.line(fraction, detail)}\n`);
    }
  }

  /** Ends the terminal line (nothing to do for plain lines). */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.options.isTTY && this.lastLength > 0) this.options.write('\n');
  }
}

/** A progress bar on stderr (redrawn in place on a terminal, plain lines otherwise). */
export function stderrProgress(io: CommandIo, label: string): ProgressBar {
  return new ProgressBar({ write: io.stderr, isTTY: process.stderr.isTTY === true, label });
}
