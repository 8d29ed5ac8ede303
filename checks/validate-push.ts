// The `push` section of a CheckSpec (used by validate.ts) and what a push check may not have.
// Field lists, order and limits come from the schema (checks/spec-schema-push.ts) through `fields`;
// written here is what the schema's bounds do not say with a clear message:
//
//   token not URL-safe characters                           format    push.token
//
// and the rules validate.ts applies at the top level for kind "push" (a push check probes nothing
// and owns one deadline on one node):
//
//   target present                                          conflict  target
//   preset present                                          conflict  preset
//   timeoutMs present                                       conflict  timeoutMs
//   replicas > 1                                            conflict  replicas
//   confirm true                                            conflict  confirm
//   target absent for any other kind                        required  target
import { PushOptionsSchema, type PushOptions } from './spec-schema';
import { fail, show } from './validate-fields';
import { object } from './validate-fields';
import { fields, integer, patternOf, text } from './validate-table';

const TOKEN = patternOf(PushOptionsSchema.properties.token);

/** The `push` section. */
export function checkPush(path: string, v: unknown): PushOptions {
  return fields(path, object(path, v), PushOptionsSchema, {
    graceMs: integer,
    token: (p, x, s) => {
      const token = text(p, x, s);
      // The value is a secret: never quoted back.
      if (!TOKEN.test(token)) fail('format', p, `${p} must be letters, digits and . _ ~ - only (it goes in a URL query unescaped)`);
      return token;
    },
  });
}

/** Why `field` (present) does not go with kind push, or undefined. */
export function pushConflict(field: 'target' | 'preset' | 'timeoutMs' | 'replicas' | 'confirm' | 'degradedAfterMs', value: unknown): string | undefined {
  switch (field) {
    case 'target':
      return 'a push check has no target: the job reports in on <prefix>.push.<id> or a node\'s /push/<id> endpoint';
    case 'preset':
      return 'presets bundle probe timings; a push check has only intervalMs and push.graceMs';
    case 'timeoutMs':
      return 'a push check probes nothing, so it has no timeout: its deadline is intervalMs + push.graceMs';
    case 'replicas':
      return value === 1 ? undefined : `a push check has one deadline, kept by one node: replicas must be 1, got ${show(value)}`;
    case 'degradedAfterMs':
      return 'a push check measures no latency (a report is on time or not): it cannot be degraded by one';
    case 'confirm':
      return value === true ? 'no other node can confirm a push check (only its owner hears the reports): drop confirm or set it to false' : undefined;
  }
}
