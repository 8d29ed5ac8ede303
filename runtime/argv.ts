// Command lines, read by Node's `util.parseArgs` for every command (`lookout node`, the client
// commands, `lookout dev`, `lookout demo-target`): `--flag value`, `--flag=value`, short aliases
// (`-s value`), `--` ends the flags. A value may start with a dash (`--jitter-ms -5`), so a bad
// value is reported by the setting that refuses it, not as a missing one. What is wrong comes back
// as an ArgvProblem, the first in command-line order; each command words it for its own errors.

import { parseArgs } from 'node:util';

export interface FlagDef {
  /** 'string': takes a value; 'boolean': a switch, which takes none. */
  type: 'string' | 'boolean';
  short?: string;
}

export type FlagDefs = Record<string, FlagDef>;

export type ArgvProblem =
  /** `flag` as it was typed: `--nope`, `-x`. */
  | { kind: 'unknown-flag'; flag: string }
  | { kind: 'missing-value'; flag: string }
  /** A switch given a value: `--json=yes`. */
  | { kind: 'unexpected-value'; flag: string }
  /** A positional argument beyond `maxPositionals`. */
  | { kind: 'unexpected-positional'; value: string };

export interface ParsedArgv {
  /** Long flag name → its value (`true` for a switch). A flag given twice keeps the last value. */
  flags: Map<string, string | true>;
  positionals: string[];
}

/** Read `argv`; the first problem is thrown as the error `problemError` makes of it. */
export function readArgv(argv: readonly string[], defs: FlagDefs, problemError: (p: ArgvProblem) => Error, maxPositionals = Infinity): ParsedArgv {
  // Not strict: parseArgs would refuse `--jitter-ms -5` as ambiguous and word its own errors.
  // The tokens say everything; unknown flags and missing values are judged here.
  const { tokens } = parseArgs({ args: [...argv], options: defs, strict: false, allowPositionals: true, tokens: true });
  const flags = new Map<string, string | true>();
  const positionals: string[] = [];
  for (const t of tokens) {
    if (t.kind === 'option-terminator') continue;
    if (t.kind === 'positional') {
      if (positionals.length >= maxPositionals) throw problemError({ kind: 'unexpected-positional', value: t.value });
      positionals.push(t.value);
      continue;
    }
    const def = Object.hasOwn(defs, t.name) ? defs[t.name] : undefined;
    if (!def) throw problemError({ kind: 'unknown-flag', flag: t.rawName });
    if (def.type === 'boolean') {
      if (t.value !== undefined) throw problemError({ kind: 'unexpected-value', flag: `--${t.name}` });
      flags.set(t.name, true);
    } else {
      if (t.value === undefined) throw problemError({ kind: 'missing-value', flag: t.rawName });
      flags.set(t.name, t.value);
    }
  }
  return { flags, positionals };
}
