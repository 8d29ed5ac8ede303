// Runs a tcp check's dialog (checks/tcp-dialog.ts) on a connected socket, step by step, within the
// probe's deadline (checks/probe-envelope.ts stops it). Each step's outcome:
//
//   send      written → next step; the peer already closed → `reset`
//   expect    the text arrived → next step; the peer closed after answering something else →
//             `body`, without a byte since the last send → `reset`; maxBodyBytes read without it →
//             `too_large`
//             (checks/tcp-peer-reader.ts)
//   expectRegex  the pattern matched → its groups kept for the sends after it, next step; else as
//             expect, and `body` when the body worker stopped or refused the match
//             (checks/tcp-regex-expect.ts)
//   send with ${n}  expanded with the latest expectRegex's groups; longer than a send may be
//             (TCP_LIMITS.stepMaxLength) → `too_large`, nothing sent
//   starttls  handshake done (verify, servername as the tls options say; the certificate's expiry
//             is reported as for tcp with tls) → the rest runs over TLS; any handshake failure →
//             `tls`; the peer already closed → `reset`
//
// The step running is recorded (`current`), so a failure, a socket error or the deadline names it
// as the result's `step`; once every step passed it is cleared.
import type { Socket } from 'node:net';
import type { WorkerWait } from './body-worker';
import type { Deadline } from './deadline';
import { networkFailure, type Failure } from './failures';
import { FailureReason } from './outcome';
import type { WorkerOverrunReport } from './probe-env';
import type { ResultDetail } from './result-detail';
import { TCP_LIMITS } from './spec-schema-tcp';
import { DialogStepKind, preview, stepPrefix, type DialogStep } from './tcp-dialog';
import { PeerReader } from './tcp-peer-reader';
import { expectRegex, type RegexCapturer } from './tcp-regex-expect';
import { expandSend, type Captures } from './tcp-send-template';

/** What the dialog needs from the probe around it. */
export interface DialogIo {
  deadline: Deadline;
  /** The whole probe's byte budget (tcp.maxBodyBytes). */
  maxBytes: number;
  /** "host:port", for messages. */
  endpoint: string;
  detail: ResultDetail;
  /** The STARTTLS handshake over `socket` (checks/connector.ts startTls with the tls options). */
  upgrade(socket: Socket): Promise<Socket>;
  /** Told of every socket the dialog comes to hold (the TLS one after STARTTLS), to tear down. */
  holds(socket: Socket): void;
  /** Told as bytes are counted: the result's bodyBytes / truncated and firstByte. */
  read(bytes: number, truncated: boolean): void;
  /** Where expectRegex steps match (the env's body worker). */
  capturer: RegexCapturer;
  /** Where the matches' waits for the body worker add up (the node's delay, not the peer's). */
  wait?: WorkerWait;
  onWorkerOverrun?: WorkerOverrunReport | undefined;
}

/** A send's bound, written or expanded. */
const SEND_MAX = TCP_LIMITS.stepMaxLength;

/** The dialog's state, read by the probe's outcome: the step running (until all passed). */
export interface DialogProgress {
  current?: string;
}

/** Run `steps` on `socket`: the first failure, or null when every step passed. Rejects on a socket error. */
export async function runDialog(socket: Socket, steps: readonly DialogStep[], io: DialogIo, progress: DialogProgress): Promise<Failure | null> {
  if (steps.length === 0) return null;
  const reader = new PeerReader(io.maxBytes, () => io.read(reader.bytes, reader.truncated));
  reader.attach(socket);
  let live = socket;
  let captures: Captures | null = null;
  for (const step of steps) {
    progress.current = step.at;
    const label = stepPrefix(step);
    const closedBefore = (): Failure => ({ reason: FailureReason.reset, message: `${label}connection closed by ${io.endpoint} before this step (${reader.bytes} bytes received)` });
    switch (step.kind) {
      case DialogStepKind.send: {
        const data = step.parts ? expandSend(step.parts, captures, SEND_MAX) : { ok: true as const, text: step.data };
        if (!data.ok) return { reason: FailureReason.too_large, message: `${label}the send with its groups filled in is over ${SEND_MAX} characters (at least ${data.length}); not sent` };
        if (reader.closed) return closedBefore();
        reader.sent(); // before the write: no answer can come sooner
        await write(live, data.text);
        break;
      }
      case DialogStepKind.expect: {
        const failure = await reader.expect(step.text, label, preview(step.text));
        if (failure) return failure;
        break;
      }
      case DialogStepKind.expectRegex: {
        const regexIo = { capturer: io.capturer, signal: io.deadline.signal, wait: io.wait, groupChars: SEND_MAX + 1, onWorkerOverrun: io.onWorkerOverrun };
        const matched = await expectRegex(reader, step.pattern, label, regexIo);
        if (matched.failure) return matched.failure;
        captures = matched.captures;
        break;
      }
      case DialogStepKind.starttls: {
        if (reader.closed) return closedBefore();
        reader.detach();
        try {
          live = await io.upgrade(live);
        } catch (err) {
          if (io.deadline.signal.aborted) throw err; // the deadline's failure, as the envelope says it
          return { reason: FailureReason.tls, message: `${label}STARTTLS handshake failed: ${networkFailure(err, io.endpoint, io.detail).message}` };
        }
        io.holds(live);
        reader.attach(live);
        break;
      }
      default: {
        const unknown: never = step;
        throw new Error(`unknown dialog step ${JSON.stringify(unknown)}`);
      }
    }
  }
  delete progress.current;
  return null;
}

function write(socket: Socket, data: string): Promise<void> {
  return new Promise((resolve, reject) => socket.write(data, 'utf8', (err) => (err ? reject(err) : resolve())));
}
