import { readFile, writeFile } from 'node:fs/promises';
import { OptionError } from '../errors.js';
import { checkCalibration, type CalibrationTable } from '../search/calibration-table.js';

// A calibration table on disk: JSON, checked on the way in and out. The search layer takes the table
// as a value (SearchOptions.calibration) and does no I/O itself.

export async function saveCalibration(file: string, table: CalibrationTable): Promise<void> {
  await writeFile(file, `${JSON.stringify(checkCalibration(table), null, 2)}\n`, 'utf8');
}

export async function loadCalibration(file: string): Promise<CalibrationTable> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new OptionError(`Cannot read calibration table ${file}: ${(err as Error).message}`);
  }
  return checkCalibration(parsed);
}
