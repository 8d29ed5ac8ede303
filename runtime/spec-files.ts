// Spec files for `lookout spec put`: JSON or YAML (one spec, a list, or YAML documents), a
// directory of them, or stdin; and `${NAME}` substitution from the environment.

import { readFile, readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { parseAllDocuments } from 'yaml';

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
    const docs = parseAllDocuments(text);
    if (!Array.isArray(docs)) return [];
    values = [];
    for (const doc of docs) {
      const bad = doc.errors[0];
      if (bad) throw new CommandError(`${source}: invalid YAML: ${bad.message.split('\n')[0]!.replace(/:$/, '')}`);
      values.push(doc.toJS());
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

async function readStdin(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stdin) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

export async function loadSpecDocs(arg: string, stdin: NodeJS.ReadableStream): Promise<SpecDoc[]> {
  if (arg === '-') return parseSpecText(await readStdin(stdin), '<stdin>', 'sniff');
  const read = async (file: string): Promise<string> => {
    try {
      return await readFile(file, 'utf8');
    } catch (err) {
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
export function substituteEnv(value: unknown, env: NodeJS.ProcessEnv, source: string): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_all, escaped: string, name: string) => {
      if (escaped) return `\${${name}}`;
      const v = env[name];
      if (v === undefined) throw new CommandError(`${source}: environment variable ${name} is not set (used as \${${name}})`);
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v) => substituteEnv(v, env, source));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substituteEnv(v, env, source)]));
  }
  return value;
}
