// Spec files for `lookout spec put`: every input bound fails with one CommandError line, and
// ordinary YAML (aliases, several documents) still loads. Real files in a temp dir.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { CommandError, loadSpecDocs, MAX_SPEC_FILE_BYTES, substituteEnv, yamlNestingProblem } from '../../cli/spec-files';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lookout-spec-files-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const noStdin = Readable.from([]);

async function load(name: string, text: string | Buffer): Promise<unknown[]> {
  const file = join(dir, name);
  await writeFile(file, text);
  return (await loadSpecDocs(file, noStdin)).map((d) => d.value);
}

async function refusal(work: Promise<unknown>): Promise<string> {
  const err = await work.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CommandError);
  return (err as Error).message;
}

test('ordinary YAML: anchors and aliases, several documents', async () => {
  const yaml = ['base: &h {Accept: application/json}', 'kind: http', 'target: http://a/', 'http: {headers: *h}', '---', 'kind: tcp', 'target: db:5432', ''].join('\n');
  expect(await load('ok.yaml', yaml)).toEqual([
    { base: { Accept: 'application/json' }, kind: 'http', target: 'http://a/', http: { headers: { Accept: 'application/json' } } },
    { kind: 'tcp', target: 'db:5432' },
  ]);
});

test("a file's leading byte order mark is dropped (editors write them; nodes refuse them on the wire)", async () => {
  expect(await load('bom.json', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"kind":"tcp","target":"db:1"}')]))).toEqual([{ kind: 'tcp', target: 'db:1' }]);
});

test('a "billion laughs" document is refused, not expanded', async () => {
  const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (const [name, prev] of [['b', 'a'], ['c', 'b'], ['d', 'c'], ['e', 'd'], ['f', 'e'], ['g', 'f'], ['h', 'g'], ['i', 'h']]) {
    lines.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
  }
  const message = await refusal(load('lol.yaml', lines.join('\n')));
  expect(message).toMatch(/lol\.yaml: invalid YAML: YAML aliases expand more than 100 times/);
});

test.each([
  ['flow', `${'['.repeat(20_000)}${']'.repeat(20_000)}`, /flow collections \(\[ \] or \{ \}\) nested more than 64 levels deep/],
  ['flow maps', `${'{a: '.repeat(65)}1${'}'.repeat(65)}`, /nested more than 64 levels deep/],
  ['block', Array.from({ length: 300 }, (_, i) => `${' '.repeat(i)}- `).join('\n'), /block collections nested more than 256 columns deep/],
  ['compact block', `${'- '.repeat(200)}x`, /block collections nested more than 256 columns deep/],
])('YAML nested too deep (%s) is refused before the parser sees it', async (name, yaml, message) => {
  expect(await refusal(load(`deep-${name.replace(' ', '-')}.yaml`, yaml))).toMatch(message);
});

test('the nesting scan ignores brackets inside quoted scalars and comments, and ordinary indentation', () => {
  expect(yamlNestingProblem(`regex: "${'['.repeat(100)}"\n# ${'{'.repeat(100)}\nlist:\n  - a: [1, [2, [3]]]\n`)).toBeUndefined();
  expect(yamlNestingProblem(`text: |\n${' '.repeat(400)}deeply indented text is fine\n`)).toBeUndefined();
  expect(yamlNestingProblem(`${'['.repeat(64)}${']'.repeat(64)}`)).toBeUndefined();
});

test('a file larger than the cap is refused without being read whole', async () => {
  const message = await refusal(load('big.json', Buffer.alloc(MAX_SPEC_FILE_BYTES + 1, 0x20)));
  expect(message).toMatch(new RegExp(`big\\.json: larger than ${MAX_SPEC_FILE_BYTES} bytes`));
  // Exactly at the cap is fine (here: whitespace around an empty list).
  const atCap = Buffer.alloc(MAX_SPEC_FILE_BYTES, 0x20);
  atCap.write('[]', 0);
  expect(await load('at-cap.json', atCap)).toEqual([]);
});

test('stdin larger than the cap is refused', async () => {
  const chunk = Buffer.alloc(1024 * 1024, 0x20);
  const stdin = Readable.from(Array.from({ length: MAX_SPEC_FILE_BYTES / chunk.length + 1 }, () => chunk));
  expect(await refusal(loadSpecDocs('-', stdin))).toMatch(/<stdin>: larger than/);
});

test('values nested deeper than 64 levels are refused by the ${NAME} substitution', () => {
  let deep: unknown = 'x';
  for (let i = 0; i < 100; i++) deep = [deep];
  expect(() => substituteEnv(deep, {}, 'deep.json')).toThrow(new CommandError('deep.json: nested more than 64 levels deep'));
  let ok: unknown = '${X}';
  for (let i = 0; i < 64; i++) ok = { a: ok };
  expect(JSON.stringify(substituteEnv(ok, { X: 'y' }, 'ok.json'))).toContain('"y"');
});
