// The `tcp` section of a CheckSpec (used by validate.ts): its fields in schema order, the steps of
// a `dialog`, then the conflicts between fields. Field lists, order and limits come from the
// schema (checks/spec-schema-tcp.ts) through `fields`; what is written here is what the schema
// does not say, or not with a clear message:
//
//   dialog with send or expect                  conflict   tcp.dialog
//   a step with none of send, expect, expectRegex, starttls   required   tcp.dialog[i].send
//   a step with two of them                     conflict   tcp.dialog[i].<the second>
//   expectRegex not RE2 (as http's regexes)     format / unsupported   tcp.dialog[i].expectRegex
//   a send with a malformed ${…}                format     tcp.dialog[i].send
//   a send with ${n} / ${name} and no expectRegex before it, or one
//     whose regex has fewer groups / no such name  conflict   tcp.dialog[i].send
//   starttls: false                             enum       tcp.dialog[i].starttls
//   a second starttls step                      conflict   tcp.dialog[i].starttls
//   maxBodyBytes 0 with an expect (or expectRegex)  conflict   tcp.maxBodyBytes
//   maxLatencyMs not below timeoutMs            conflict   tcp.maxLatencyMs
import { regexGroups } from './regex';
import { DialogStepSchema, TcpOptionsSchema, type DialogStepSpec, type TcpOptions } from './spec-schema';
import { parseSendTemplate, referencesOf, showReference } from './tcp-send-template';
import { checkRegex } from './validate-assertions';
import { checkLatencyBound, checkTls, type TimeoutBound } from './validate-sections';
import { at, fail, object } from './validate-fields';
import { fields, flag, integer, list, text } from './validate-table';

const STEP_ACTIONS = ['send', 'expect', 'expectRegex', 'starttls'] as const;

/** The `tcp` section of a spec whose effective timeout is `timeout`. */
export function checkTcp(path: string, v: unknown, timeout: TimeoutBound): TcpOptions {
  const t = fields(path, object(path, v), TcpOptionsSchema, {
    tls: checkTls,
    send: text,
    expect: text,
    dialog: (p, x, s, before) => {
      const given = (['send', 'expect'] as const).filter((k) => before[k] !== undefined);
      if (given.length > 0) {
        const names = given.map((k) => `${path}.${k}`).join(' and ');
        fail('conflict', p, `${p} replaces ${names}: write them as dialog steps ({"send": …}, {"expect": …}) and drop ${given.length > 1 ? 'them' : 'it'}`);
      }
      return checkDialog(p, list(p, x, s));
    },
    maxLatencyMs: integer,
    maxBodyBytes: integer,
  });
  const expecting = firstExpect(path, t);
  if (t.maxBodyBytes === 0 && expecting) {
    fail('conflict', at(path, 'maxBodyBytes'), `${path}.maxBodyBytes is 0 but ${expecting} needs bytes from the peer`);
  }
  checkLatencyBound(path, t.maxLatencyMs, timeout);
  return t;
}

/** The path of the first expect of the section (the single one, or a dialog step's), or undefined. */
function firstExpect(path: string, t: TcpOptions): string | undefined {
  if (t.expect !== undefined) return at(path, 'expect');
  const i = t.dialog?.findIndex((s) => s.expect !== undefined || s.expectRegex !== undefined) ?? -1;
  return i < 0 ? undefined : at(at(at(path, 'dialog'), i), t.dialog![i]!.expect !== undefined ? 'expect' : 'expectRegex');
}

/** The steps of a dialog, each exactly one action; at most one starttls; every group a send names captured before it. */
function checkDialog(path: string, steps: unknown[]): DialogStepSpec[] {
  let upgradedAt: string | undefined;
  let lastRegex: { path: string; source: string } | undefined;
  return steps.map((raw, i) => {
    const p = at(path, i);
    const step = fields(p, object(p, raw), DialogStepSchema, {
      send: (sp, x, s) => checkSendTemplate(sp, text(sp, x, s), lastRegex),
      expect: text,
      expectRegex: checkRegex,
      starttls: (sp, x) => {
        if (!flag(sp, x)) fail('enum', sp, `${sp} must be true (leave the step out to stay in plain text)`);
        return true as const;
      },
    });
    const actions = STEP_ACTIONS.filter((k) => step[k] !== undefined);
    if (actions.length === 0) fail('required', at(p, 'send'), `${p} needs one of send, expect, expectRegex or starttls`);
    if (actions.length > 1) {
      fail('conflict', at(p, actions[1]!), `${p} has both ${actions[0]} and ${actions[1]}; one action per step (add another step)`);
    }
    if (step.starttls) {
      if (upgradedAt) fail('conflict', at(p, 'starttls'), `${p} upgrades to TLS again; ${upgradedAt} already did (one starttls per dialog)`);
      upgradedAt = p;
    }
    if (step.expectRegex !== undefined) lastRegex = { path: at(p, 'expectRegex'), source: step.expectRegex };
    return step;
  });
}

/** A dialog send: its ${…} references well formed, each naming a group the latest expectRegex before it has. */
function checkSendTemplate(path: string, send: string, regex: { path: string; source: string } | undefined): string {
  const t = parseSendTemplate(send);
  if (!t.ok) fail('format', path, `${path}: ${t.message}`);
  const refs = referencesOf(t.parts);
  if (refs.length === 0) return send;
  if (!regex) fail('conflict', path, `${path} uses ${showReference(refs[0]!)} but no expectRegex step comes before it (write $$ for a literal $)`);
  const groups = regexGroups(regex.source);
  for (const ref of refs) {
    if ('group' in ref && ref.group > groups.count) {
      fail('conflict', path, `${path} uses ${showReference(ref)} but ${regex.path} has ${groups.count === 1 ? '1 group' : `${groups.count} groups`}`);
    }
    if ('name' in ref && !groups.names.includes(ref.name)) {
      fail('conflict', path, `${path} uses ${showReference(ref)} but ${regex.path} has no group named ${ref.name}`);
    }
  }
  return send;
}
