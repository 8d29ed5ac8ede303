// Jest globalSetup of the chaos suite: start an empty rows file.

import { rmSync } from 'node:fs';
import { rowsFile } from './rows-file';

export default function setup(): void {
  rmSync(rowsFile(), { force: true });
}
