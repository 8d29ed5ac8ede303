// The published CheckSpec JSON Schema read by an independent validator (Ajv, draft 2020-12, strict
// mode): the document is a valid schema, and Ajv decides every fixture exactly as the TypeBox
// checker the other schema tests use — so what users in other languages run agrees with Lookout.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { Value } from '@sinclair/typebox/value';
import { CheckSpecDocumentSchema, specJsonSchema } from '../../checks/spec-json-schema';

const ROOT = join(__dirname, '..', '..');

function documents(kind: 'valid' | 'invalid'): [string, unknown][] {
  const dir = join(ROOT, 'test', 'fixtures', 'specs', kind);
  const out: [string, unknown][] = [];
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.json')).sort()) {
    const fx = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { payload?: unknown; rawPayload?: string };
    if ('payload' in fx) out.push([f, fx.payload]);
    else if (fx.rawPayload !== undefined) {
      try {
        out.push([f, JSON.parse(fx.rawPayload)]);
      } catch {
        // not JSON: nothing for a schema to decide
      }
    }
  }
  return out;
}

const ajv = new Ajv2020({ strict: true, allErrors: false, unicodeRegExp: true });
const validate = ajv.compile(specJsonSchema());

test('the published schema compiles in Ajv strict mode (draft 2020-12 meta-schema included)', () => {
  expect(ajv.validateSchema(specJsonSchema())).toBe(true);
  expect(ajv.errors ?? null).toBeNull();
});

test.each(documents('valid'))('valid/%s: Ajv accepts it', (_f, doc) => {
  expect(validate(doc) ? [] : validate.errors).toEqual([]);
});

test('on every invalid fixture Ajv and the TypeBox checker decide alike', () => {
  const disagree = documents('invalid')
    .filter(([, doc]) => validate(doc) !== Value.Check(CheckSpecDocumentSchema, doc))
    .map(([f]) => f);
  expect(disagree).toEqual([]);
  // and most of them are refused by the schema alone
  expect(documents('invalid').filter(([, doc]) => !validate(doc)).length).toBeGreaterThan(150);
});
