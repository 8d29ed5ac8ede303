// A dialog's `expectRegex` step: read from the peer (checks/tcp-peer-reader.ts) until an RE2
// pattern matches what came since the last expect, and keep the match's groups for the sends
// after it (checks/tcp-send-template.ts). The matching itself runs in the body worker
// (checks/body-worker.ts), like http's bodyRegex: within its budget, off the event loop.
//
//   what is matched   the bytes since the last expect, up to the last line end (LF) received:
//                     a line is matched once it is whole, so `^SSH-2.0-(\S+)$` never matches half a
//                     version string that a slow peer is still sending. Multi-line mode (^ and $ at
//                     line starts and ends, as blackbox matches line by line; `.` stops at LF; the
//                     CR of a CR LF is not seen, checks/crlf-lines.ts). Once the peer closed or the
//                     budget is spent, the unfinished last line too
//   when              at most one match runs at a time: when one ends without a match, the next
//                     runs on everything received meanwhile (if a line ended since). A peer that
//                     trickles a line at a time costs at most one match per line, each on at most
//                     maxBodyBytes: quadratic within the byte budget, never beyond it, and the
//                     whole step is bounded by the probe's deadline and the worker's budget per match
//   the match         → null, its groups kept; the bytes after it stay for the next expect
//   none, peer closed → `body` (answered something else) / `reset` (nothing since the last send)
//   none, budget spent→ `too_large`
//   the worker stopped the match at its budget, or refused it → `body` ("expectRegex /…/ was
//                     stopped after 200 ms …", the same words and memory as bodyRegex)
import type { CaptureVerdict } from './body-job';
import type { WorkerWait } from './body-worker';
import { reportOverrun, workStopped } from './body-work-stopped';
import type { Failure } from './failures';
import { FailureReason } from './outcome';
import type { WorkerOverrunReport } from './probe-env';
import type { PeerReader } from './tcp-peer-reader';
import type { Captures } from './tcp-send-template';

/** Where a pattern is matched: the body worker's capture (a narrow port: tests pass a fake). */
export interface RegexCapturer {
  capture(pattern: string, bytes: Uint8Array, groupChars: number, signal?: AbortSignal, wait?: WorkerWait): Promise<CaptureVerdict>;
}

/** What an expectRegex step needs besides the reader. */
export interface RegexExpectIo {
  capturer: RegexCapturer;
  /** The probe's deadline: a match still waiting when it fires answers `aborted`. */
  signal: AbortSignal;
  /** Where the match's wait for the body worker is added (checks/body-worker.ts). */
  wait?: WorkerWait | undefined;
  /** Each group is cut to this many characters (one more than a send may hold: any longer one fails the send alike). */
  groupChars: number;
  onWorkerOverrun?: WorkerOverrunReport | undefined;
}

export type RegexExpectResult = { failure: Failure; captures?: undefined } | { failure: null; captures: Captures };

const LF = 0x0a;

/** Wait until `pattern` matches (see above). `label` starts each message ("tcp.dialog[2]: "). Rejects on a socket error. */
export function expectRegex(reader: PeerReader, pattern: string, label: string, io: RegexExpectIo): Promise<RegexExpectResult> {
  const shown = `/${pattern}/`;
  return new Promise((resolve, reject) => {
    let chunks: Buffer[] = [];
    let received = 0;
    /** Bytes up to the last LF received. */
    let lines = 0;
    /** Bytes the last match looked at. */
    let tried = 0;
    let running = false;
    let done = false;
    let ended: 'spent' | 'closed' | null = null;

    const finish = (result: RegexExpectResult, rest?: Buffer): void => {
      done = true;
      reader.release(rest);
      resolve(result);
    };
    const next = (): void => {
      if (done || running) return;
      const upto = ended ? received : lines;
      if (upto > tried) return void run(upto);
      if (ended === 'spent') finish({ failure: { reason: FailureReason.too_large, message: `${label}${shown} not matched in the first ${reader.bytes} bytes` } });
      else if (ended === 'closed') finish({ failure: reader.closedFailure(label, shown) });
    };
    const run = async (upto: number): Promise<void> => {
      running = true;
      tried = upto;
      const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received);
      chunks = [all]; // joined once per match, not once per chunk; the worker gets a copy of exactly what it matches
      const verdict = await io.capturer.capture(pattern, new Uint8Array(all.subarray(0, upto)), io.groupChars, io.signal, io.wait);
      running = false;
      if (done) return;
      if (verdict.status === 'match') return finish({ failure: null, captures: verdict.captures }, all.subarray(verdict.end));
      if (verdict.status !== 'no_match') {
        reportOverrun(io.onWorkerOverrun, 'expectRegex', verdict);
        return finish({ failure: workStopped(verdict, FailureReason.body, `${label}expectRegex ${shown}`, upto, 'simplify the pattern or lower maxBodyBytes') });
      }
      next();
    };

    reader.listen({
      data: (chunk) => {
        chunks.push(chunk);
        const lf = chunk.lastIndexOf(LF);
        if (lf !== -1) lines = received + lf + 1;
        received += chunk.length;
        next();
      },
      spent: () => {
        ended = 'spent';
        next();
      },
      closed: () => {
        ended ??= 'closed';
        next();
      },
      error: (err) => {
        done = true;
        reader.release();
        reject(err);
      },
    });
  });
}
