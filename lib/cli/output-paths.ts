/**
 * Output paths are checked when a command starts, before any model loads: a calibration that runs for 25
 * minutes must not end by failing to write its table into a missing folder. Each check names the flag.
 */
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from './flags.js';

function writable(p: string): boolean {
  try {
    accessSync(p, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** `--flag FILE`: a file that can be created or overwritten (its folder exists and is writable). */
export function checkWritableFile(flag: string, file: string): void {
  if (file === '') throw new UsageError(`--${flag} needs a file name`);
  const dir = path.dirname(path.resolve(file));
  if (!existsSync(dir)) throw new UsageError(`--${flag} ${file}: folder ${dir} does not exist`);
  if (!statSync(dir).isDirectory()) throw new UsageError(`--${flag} ${file}: ${dir} is a file, not a folder`);
  if (existsSync(file)) {
    if (statSync(file).isDirectory()) throw new UsageError(`--${flag} ${file} is a folder; give a file name`);
    if (!writable(file)) throw new UsageError(`--${flag} ${file} is not writable`);
    return;
  }
  if (!writable(dir)) throw new UsageError(`--${flag} ${file}: folder ${dir} is not writable`);
}

/**
 * `--flag DIR`: a folder that exists and is writable, or that can be made (`mkdir -p`): its nearest
 * existing ancestor is a writable folder.
 */
export function checkOutputDir(flag: string, dir: string): void {
  if (dir === '') throw new UsageError(`--${flag} needs a folder name`);
  let p = path.resolve(dir);
  if (existsSync(p)) {
    if (!statSync(p).isDirectory()) throw new UsageError(`--${flag} ${dir} is a file; give a folder`);
    if (!writable(p)) throw new UsageError(`--${flag} ${dir}: folder is not writable`);
    return;
  }
  while (!existsSync(p)) {
    const up = path.dirname(p);
    if (up === p) break;
    p = up;
  }
  if (!statSync(p).isDirectory()) throw new UsageError(`--${flag} ${dir}: ${p} is a file, so the folder cannot be made`);
  if (!writable(p)) throw new UsageError(`--${flag} ${dir}: cannot make the folder (${p} is not writable)`);
}
