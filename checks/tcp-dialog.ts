// A tcp check's conversation with its target as data: the ordered steps a probe runs after connect
// (checks/tcp-dialog-run.ts runs them). Pure.
//
// One code path: the single `send` / `expect` of a tcp section is the dialog [send, expect] (or
// either alone), so a spec written either way runs the same steps; a `dialog` gives the steps
// itself. Each step keeps the field path it came from ("tcp.dialog[2]", "tcp.expect"), which a
// failed probe reports as its `step`; a dialog step's failure message starts with that path (the
// messages of the single send / expect read as they always did).
//
//   send      write these bytes (UTF-8)
//   expect    read until this substring arrives: searched in linear time as bytes come
//             (checks/text-search.ts); bytes after it are kept for the next expect; every
//             expect of the probe shares one byte budget (maxBodyBytes)
//   expectRegex  read until this RE2 pattern matches, line by line, in the body worker
//             (checks/tcp-regex-expect.ts); its groups serve the sends after it
//   send (a dialog's) a template: ${1} … ${9}, ${name} are the latest expectRegex's groups, $$ is
//             a $ (checks/tcp-send-template.ts); `parts` only when it references a group. The
//             single `tcp.send` is sent as written
//   starttls  upgrade the connection to TLS in place (the tcp section's tls options); bytes the
//             peer sent before the handshake and no expect read are dropped, never read as TLS
import type { DialogStepSpec, TcpOptions } from './spec-schema';
import { literalOf, parseSendTemplate, referencesOf, type SendPart } from './tcp-send-template';

export const DialogStepKind = { send: 'send', expect: 'expect', expectRegex: 'expectRegex', starttls: 'starttls' } as const;
export type DialogStepKind = (typeof DialogStepKind)[keyof typeof DialogStepKind];

/** One normalized step: what it does and the field path it came from. */
export type DialogStep =
  | { kind: typeof DialogStepKind.send; data: string; parts?: SendPart[]; at: string }
  | { kind: typeof DialogStepKind.expect; text: string; at: string }
  | { kind: typeof DialogStepKind.expectRegex; pattern: string; at: string }
  | { kind: typeof DialogStepKind.starttls; at: string };

const NO_STEPS: DialogStep[] = Object.freeze([]) as unknown as DialogStep[];

/** The steps of a validated tcp section, in the order they run. */
export function dialogOf(t: Pick<TcpOptions, 'send' | 'expect' | 'dialog'>): DialogStep[] {
  if (t.dialog !== undefined) return t.dialog.map((s, i) => stepOf(s, `tcp.dialog[${i}]`));
  const steps: DialogStep[] = [];
  if (t.send !== undefined) steps.push({ kind: DialogStepKind.send, data: t.send, at: 'tcp.send' });
  if (t.expect !== undefined) steps.push({ kind: DialogStepKind.expect, text: t.expect, at: 'tcp.expect' });
  return steps.length === 0 ? NO_STEPS : steps;
}

/** A validated step (exactly one of send, expect, expectRegex and starttls). */
function stepOf(s: DialogStepSpec, at: string): DialogStep {
  if (s.send !== undefined) return sendOf(s.send, at);
  if (s.expect !== undefined) return { kind: DialogStepKind.expect, text: s.expect, at };
  if (s.expectRegex !== undefined) return { kind: DialogStepKind.expectRegex, pattern: s.expectRegex, at };
  return { kind: DialogStepKind.starttls, at };
}

/** A dialog send: its text with $$ reduced, and its parts when it references a group. */
function sendOf(text: string, at: string): DialogStep {
  const t = parseSendTemplate(text);
  if (!t.ok) return { kind: DialogStepKind.send, data: text, at }; // validated: not reached
  if (referencesOf(t.parts).length === 0) return { kind: DialogStepKind.send, data: literalOf(t.parts), at };
  return { kind: DialogStepKind.send, data: text, parts: t.parts, at };
}

/** Whether the connection starts plain and is upgraded by a step (the tls options then serve the upgrade). */
export function hasStartTls(steps: readonly DialogStep[]): boolean {
  return steps.some((s) => s.kind === DialogStepKind.starttls);
}

/** Whether any step reads from the peer (then maxBodyBytes must leave it bytes to read). */
export function expectsAnswer(steps: readonly DialogStep[]): boolean {
  return steps.some((s) => s.kind === DialogStepKind.expect || s.kind === DialogStepKind.expectRegex);
}

/** The prefix of a step's failure message: "tcp.dialog[2]: " for a dialog step, nothing for the single send / expect. */
export function stepPrefix(step: DialogStep): string {
  return step.at.startsWith('tcp.dialog[') ? `${step.at}: ` : '';
}

/** An expected text for a message: JSON-quoted, at most 80 characters (it is the spec's, never the target's). */
export function preview(s: string): string {
  const q = JSON.stringify(s);
  return q.length > 80 ? `${q.slice(0, 77)}...` : q;
}
