/**
 * Opening the files of a checkpoint. Each is stat()ed before it is opened or read: a FIFO would block
 * the open forever (and no AbortSignal reaches a blocked open), a character device such as /dev/zero
 * reads without end, and a directory fails with a confusing EISDIR deep in a parser. Only regular files
 * (symlinks to them included) are read; anything else is a FileReadError naming the path and its kind.
 */
import type { Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { readFile, stat } from 'node:fs/promises';
import { FileReadError, fileReadError } from './errors.js';

/** JSON side files (config.json, tokenizer.json, ...) larger than this are refused before reading. */
export const MAX_JSON_BYTES = 512 * 1024 * 1024;

/** What kind of file `s` is, in words, for messages. */
export function fileKind(s: Stats): string {
  if (s.isFile()) return 'regular file';
  if (s.isDirectory()) return 'directory';
  if (s.isFIFO()) return 'FIFO (named pipe)';
  if (s.isCharacterDevice()) return 'character device';
  if (s.isBlockDevice()) return 'block device';
  if (s.isSocket()) return 'socket';
  return 'special file';
}

/** The stat of `file`, which must be a regular file; `doing` words the error ("read the tokenizer"). */
export async function statRegularFile(file: string, doing: string): Promise<Stats> {
  let s: Stats;
  try {
    s = await stat(file);
  } catch (err) {
    throw fileReadError(file, doing, err);
  }
  if (!s.isFile()) {
    throw new FileReadError(file, undefined, `${file}: cannot ${doing}: it is a ${fileKind(s)}, not a regular file`);
  }
  return s;
}

/** The text of a regular file of at most `maxBytes` bytes. */
export async function readTextFile(file: string, doing: string, maxBytes = MAX_JSON_BYTES): Promise<string> {
  const s = await statRegularFile(file, doing);
  if (s.size > maxBytes) {
    throw new FileReadError(file, undefined, `${file}: cannot ${doing}: it has ${s.size} bytes, more than the ${maxBytes} a JSON side file may have`);
  }
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw fileReadError(file, doing, err);
  }
}

/** Reads into `into` from `position` until it is full or the file ends; the bytes read. */
export async function readFully(fh: FileHandle, into: Uint8Array, position: number): Promise<number> {
  let got = 0;
  while (got < into.length) {
    const { bytesRead } = await fh.read(into, got, into.length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got;
}
