// What a batch of a node's published results may carry (runtime/publish-batcher.ts does the I/O).
//
// A check runner's results, verdict changes and vantage resume records are gated: while the pause
// guard holds the timer queue, or the link has been down past the pause threshold (cutOff), or a
// pause is overdue, they are dropped (app/start-node.ts says why). The gate is asked when a message
// is produced, and asked again when its batch is written: a gate that closed in between drops the
// whole pending batch, so a batch never carries a message the gate would have dropped when it was
// written. Everything else a runner publishes (a shard release) is ungated: it is never batched and
// never dropped, and it writes any pending batch out ahead of itself, so the order a runner
// published in is the order on the wire.

/**
 * The gated kinds of message, as `as const` + a derived union. `down`: the panic guards' notice of
 * a status message saying down (runtime/panic-guard.ts), published right after it and gated alike.
 */
export const PublishKind = { result: 'result', status: 'status', resume: 'resume', down: 'down' } as const;
export type PublishKind = (typeof PublishKind)[keyof typeof PublishKind];

/** Subject prefixes of the gated kinds (`<prefix>.result.`, `<prefix>.status.`, `<prefix>._resume.`). */
export interface GatedPrefixes {
  result: string;
  status: string;
  resume: string;
}

/** The kind of a subject a runner publishes on, or null for an ungated one. */
export function publishKind(subject: string, p: GatedPrefixes): PublishKind | null {
  if (subject.startsWith(p.status)) return PublishKind.status;
  if (subject.startsWith(p.result)) return PublishKind.result;
  if (subject.startsWith(p.resume)) return PublishKind.resume;
  return null;
}

export interface Pending {
  subject: string;
  /** Encoded when produced: subscribers see the message as it was then. */
  data: Uint8Array;
  kind: PublishKind;
  /** Told when the gate drops it (the producer's state may say it went out: check-table.ts unannounced). */
  onDropped?: () => void;
}

export type DropCounts = Record<PublishKind, number>;

export function noDrops(): DropCounts {
  return { result: 0, status: 0, resume: 0, down: 0 };
}

/**
 * What writing a pending batch does: with the gate open, every message in the order produced; with
 * it closed, none, and how many of each kind were dropped.
 */
export function settleBatch(pending: readonly Pending[], gateOpen: boolean): { send: readonly Pending[]; dropped: DropCounts } {
  const dropped = noDrops();
  if (gateOpen) return { send: pending, dropped };
  for (const m of pending) dropped[m.kind]++;
  return { send: [], dropped };
}

/** The most messages one batch holds before it is written at once (bounds memory and a write's size). */
export const MAX_BATCH_MESSAGES = 256;

/** What to do with a message being published (the batcher's rule, table-tested). */
export const PublishStep = {
  /** The gate is closed now: drop it (and count it). */
  drop: 'drop',
  /** Ungated: write the pending batch, then this message, now. */
  flushThenSend: 'flush_then_send',
  /** Gated, gate open, batching on: add it; the batch is written at the end of the window. */
  add: 'add',
  /** Gated, gate open: add it and write the batch now (batching off, or the batch is full). */
  addThenFlush: 'add_then_flush',
} as const;
export type PublishStep = (typeof PublishStep)[keyof typeof PublishStep];

export function publishStep(kind: PublishKind | null, gateOpen: boolean, batching: boolean, pendingCount: number): PublishStep {
  if (kind === null) return PublishStep.flushThenSend;
  if (!gateOpen) return PublishStep.drop;
  if (!batching || pendingCount + 1 >= MAX_BATCH_MESSAGES) return PublishStep.addThenFlush;
  return PublishStep.add;
}
