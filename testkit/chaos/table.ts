// The chaos suite's output: one Markdown table row per scenario (invariants.ts decides the row), so
// the table can be pasted into BENCHMARKS.md as printed. Rows are also appended as JSON lines to a
// file, so the rows of several Jest test files (each in its own worker) end up in one table.

import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import type { ChaosRow } from './invariants';

const HEADER = ['scenario', 'profile', 'checks', 'max gap ms (bound)', 'missed slots', 'checks over', 'dup probes (counted)', 'uncounted dup', 'seq repeats', 'epoch regr.', 'spurious down', 'failed probes', 'specs lost', 'leaders/term', 'broken'];

export function tableRow(r: ChaosRow): string {
  const cells = [
    r.scenario,
    r.profile,
    String(r.checks),
    `${r.maxGapMs} (${r.gapBoundMs ?? 'no slot missed'})`,
    String(r.missedSlots),
    String(r.checksOverBound),
    `${r.duplicates} (${r.countedDuplicates})`,
    String(r.uncountedDuplicates),
    String(r.seqRepeats),
    String(r.epochRegressions),
    String(r.spuriousDown),
    String(r.failedProbes),
    String(r.specsLost),
    String(r.maxLeadersPerTerm),
    r.broken.length ? `**${r.broken.join(', ')}**` : 'none',
  ];
  return `| ${cells.join(' | ')} |`;
}

export function formatTable(rows: readonly ChaosRow[]): string {
  return [`| ${HEADER.join(' | ')} |`, `|${HEADER.map(() => '---').join('|')}|`, ...rows.map(tableRow)].join('\n');
}

/** The examples behind each broken invariant, under the table. */
export function formatExamples(rows: readonly ChaosRow[]): string {
  return rows
    .filter((r) => r.examples.length)
    .map((r) => `${r.scenario} (${r.profile}):\n${r.examples.map((e) => `  ${e}`).join('\n')}`)
    .join('\n');
}

export function appendRow(file: string, row: ChaosRow): void {
  appendFileSync(file, JSON.stringify(row) + '\n');
}

export function readRows(file: string): ChaosRow[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as ChaosRow);
}
