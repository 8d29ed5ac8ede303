// The spec fixtures in test/fixtures/specs/{valid,invalid}: one JSON file per case, each a
// subject id plus the bytes a client would publish (a JSON document, raw text or base64).

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SpecFixture {
  rule: string;
  subjectId: string;
  payload?: unknown;
  rawPayload?: string;
  rawPayloadBase64?: string;
  padBytes?: number;
  maxBytes?: number;
  expect?: { code: string; path: string };
}

const DIR = join(__dirname, '..', 'fixtures', 'specs');

/** [name without .json, fixture], sorted by name. */
export function loadSpecFixtures(kind: 'valid' | 'invalid'): [string, SpecFixture][] {
  const dir = join(DIR, kind);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => [f.slice(0, -'.json'.length), JSON.parse(readFileSync(join(dir, f), 'utf8')) as SpecFixture]);
}
