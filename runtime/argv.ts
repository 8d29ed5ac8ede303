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

/** Switches that take no value anywhere on the command line (every other `--flag` takes one). */
const SWITCHES = new Set(['--json', '--help', '-h', '--no-status']);

/**
 * Flags given before the command (`lookout -s nats://10.0.0.5:4222 cluster`, the habit of the nats
 * CLI and kubectl) moved after it, where the command reads them; a `spec` command keeps its
 * sub-command first. `commands`: the command names. A flag's value is never taken for the command
 * (`--prefix status` is a flag and its value): a `--flag` with no `=` takes the next token unless it
 * is a switch. Returns argv unchanged when it starts with the command or has none.
 */
export function commandFirst(argv: readonly string[], commands: readonly string[]): string[] {
  let i = 0;
  while (i < argv.length && argv[i]!.startsWith('-') && argv[i] !== '--') {
    const a = argv[i]!;
    i += !a.includes('=') && !SWITCHES.has(a) ? 2 : 1;
  }
  if (i === 0 || i >= argv.length || !commands.includes(argv[i]!)) return [...argv];
  const cmd = argv[i]!;
  const flags = argv.slice(0, i);
  const rest = argv.slice(i + 1);
  if (cmd === 'spec' && rest.length > 0 && !rest[0]!.startsWith('-')) return [cmd, rest[0]!, ...flags, ...rest.slice(1)];
  return [cmd, ...flags, ...rest];
}
