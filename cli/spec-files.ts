// Spec files for `lookout spec put`: JSON or YAML (one spec, a list, or YAML documents), a
// directory of them, or stdin; and `${NAME}` substitution from the environment.
//
// Input is bounded before it is parsed: at most MAX_SPEC_FILE_BYTES per file (or stdin); YAML
// nested at most MAX_SPEC_NESTING flow levels and MAX_YAML_INDENT columns (about a thousand levels
// overflow the parser's stack, and that overflow sometimes lands in V8's regex compiler, which
// aborts the process uncatchably — seen with a 40 KB file of "[[[…"); at most MAX_YAML_ALIASES
// alias expansions per document (the "billion laughs" guard); values nested at most
// MAX_SPEC_NESTING deep. Each bound fails with one CommandError line.

import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { Lexer, parseAllDocuments } from 'yaml';

/** Largest spec file (or stdin) read: ~25k specs of 300 bytes; a directory may hold many files. */
export const MAX_SPEC_FILE_BYTES = 8 * 1024 * 1024;
/** Alias nodes a YAML document may expand (yaml's own default, set here on purpose). */
const MAX_YAML_ALIASES = 100;
/** Containers nested in one spec document; a node accepts far less (json equals: 32). */
const MAX_SPEC_NESTING = 64;
/** Column of a YAML block indicator (`-`, `?`, `:`): each nesting level needs a column more. */
const MAX_YAML_INDENT = 256;

/**
 * Why `text` is nested too deep to hand to the YAML parser, or undefined. It runs yaml's own
 * lexer (iterative, so it cannot overflow) and looks at its tokens: flow brackets must nest at most
 * MAX_SPEC_NESTING deep, and block indicators must sit at most MAX_YAML_INDENT columns in — a
 * nested block collection always starts further right than its parent.
 */
export function yamlNestingProblem(text: string): string | undefined {
  let depth = 0;
  let column = 0;
  for (const token of new Lexer().lex(text)) {
    if (token === '[' || token === '{') {
      if (++depth > MAX_SPEC_NESTING) return `flow collections ([ ] or { }) nested more than ${MAX_SPEC_NESTING} levels deep`;
    } else if (token === ']' || token === '}') {
      depth = Math.max(0, depth - 1);
    } else if ((token === '-' || token === '?' || token === ':') && column > MAX_YAML_INDENT) {
      return `block collections nested more than ${MAX_YAML_INDENT} columns deep`;
    }
    // Control tokens (document and scalar markers) are below U+0020 and take no columns.
    if (token.length === 1 && token < ' ' && token !== '\n' && token !== '\t') continue;
    const newline = token.lastIndexOf('\n');
    column = newline < 0 ? column + token.length : token.length - newline - 1;
  }
  return undefined;
}

/** A problem with the command's input: one line for the user, exit code 1. */
export class CommandError extends Error {}

export interface SpecDoc {
  /** Where it came from, for messages: "checks/api.yaml", "checks/all.yaml (spec 2)", "<stdin>". */
  source: string;
  value: unknown;
}

function parseSpecText(text: string, source: string, format: 'json' | 'yaml' | 'sniff'): SpecDoc[] {
  let values: unknown[];
  if (format === 'json' || (format === 'sniff' && isJson(text))) {
    try {
      values = [JSON.parse(text)];
    } catch (err) {
      throw new CommandError(`${source}: invalid JSON: ${(err as Error).message}`);
    }
  } else {
    const deep = yamlNestingProblem(text);
    if (deep) throw new CommandError(`${source}: invalid YAML: ${deep}`);
    const docs = parseAllDocuments(text);
    if (!Array.isArray(docs)) return [];
    values = [];
    for (const doc of docs) {
      const bad = doc.errors[0];
      if (bad) throw new CommandError(`${source}: invalid YAML: ${bad.message.split('\n')[0]!.replace(/:$/, '')}`);
      try {
        values.push(doc.toJS({ maxAliasCount: MAX_YAML_ALIASES }));
      } catch (err) {
        const why = /alias count/i.test((err as Error).message) ? `YAML aliases expand more than ${MAX_YAML_ALIASES} times (a "billion laughs" document?)` : (err as Error).message;
        throw new CommandError(`${source}: invalid YAML: ${why}`);
      }
    }
  }
  const items = values.flatMap((v) => (Array.isArray(v) ? v : v === null || v === undefined ? [] : [v]));
  return items.map((value, i) => ({ source: items.length > 1 ? `${source} (spec ${i + 1})` : source, value }));
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

const SPEC_FILE = /\.(json|ya?ml)$/i;

function formatOf(file: string): 'json' | 'yaml' | 'sniff' {
  const ext = extname(file).toLowerCase();
  return ext === '.json' ? 'json' : ext === '.yaml' || ext === '.yml' ? 'yaml' : 'sniff';
}

/** All of `input` as UTF-8 text, or a CommandError once it passes MAX_SPEC_FILE_BYTES (reading stops there). */
async function readBounded(input: NodeJS.ReadableStream, source: string): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of input) {
    const chunk = typeof c === 'string' ? Buffer.from(c) : (c as Buffer);
    size += chunk.length;
    if (size > MAX_SPEC_FILE_BYTES) {
      (input as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
      throw new CommandError(`${source}: larger than ${MAX_SPEC_FILE_BYTES} bytes; split it into several files in a directory`);
    }
    chunks.push(chunk);
  }
  // A byte order mark some editors write is dropped here (a node refuses one on the wire).
  return Buffer.concat(chunks, size).toString('utf8').replace(/^\uFEFF/, '');
}

export async function loadSpecDocs(arg: string, stdin: NodeJS.ReadableStream): Promise<SpecDoc[]> {
  if (arg === '-') return parseSpecText(await readBounded(stdin, '<stdin>'), '<stdin>', 'sniff');
  const read = async (file: string): Promise<string> => {
    try {
      // `end` stops the stream one byte past the cap, so /dev/zero or a huge file is not read whole.
      return await readBounded(createReadStream(file, { end: MAX_SPEC_FILE_BYTES }), file);
    } catch (err) {
      if (err instanceof CommandError) throw err;
      throw new CommandError(`cannot read ${file}: ${(err as Error).message}`);
    }
  };
  let isDir: boolean;
  try {
    isDir = (await stat(arg)).isDirectory();
  } catch (err) {
    throw new CommandError(`cannot read ${arg}: ${(err as Error).message}`);
  }
  if (!isDir) return parseSpecText(await read(arg), arg, formatOf(arg));
  const files = (await readdir(arg)).filter((f) => SPEC_FILE.test(f)).sort();
  if (files.length === 0) throw new CommandError(`${arg}: no *.json, *.yaml or *.yml files in this directory`);
  const docs: SpecDoc[] = [];
  for (const f of files) {
    const file = join(arg, f);
    if ((await stat(file)).isDirectory()) continue;
    docs.push(...parseSpecText(await read(file), file, formatOf(f)));
  }
  return docs;
}

/** Replace `${NAME}` in every string value (not in keys); `$${NAME}` stays `${NAME}`. */
export function substituteEnv(value: unknown, env: NodeJS.ProcessEnv, source: string, depth = 0): unknown {
  if (depth > MAX_SPEC_NESTING) throw new CommandError(`${source}: nested more than ${MAX_SPEC_NESTING} levels deep`);
  if (typeof value === 'string') {
    return value.replace(/\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_all, escaped: string, name: string) => {
      if (escaped) return `\${${name}}`;
      const v = env[name];
      if (v === undefined) throw new CommandError(`${source}: environment variable ${name} is not set (used as \${${name}})`);
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v) => substituteEnv(v, env, source, depth + 1));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substituteEnv(v, env, source, depth + 1)]));
  }
  return value;
}
