// What a tcp probe reads from its peer, across the steps of a dialog (checks/tcp-dialog-run.ts):
// one byte budget for the whole probe (maxBodyBytes), bytes past an expect's match kept for the
// next expect, and whether the peer has closed. The socket flows from the first step on, so a close
// is seen even while no expect waits; nothing past the budget is kept (the socket is paused there).
// A STARTTLS step moves the reader to the TLS socket and drops what the plain socket sent that no
// expect read: bytes a peer sent before the handshake are never read as if they came over TLS.
import type { Socket } from 'node:net';
import { FailureReason } from './outcome';
import type { Failure } from './failures';
import { ByteSearch } from './text-search';

/**
 * A step that reads (an expect), told of the bytes no earlier step read and then of each chunk
 * as it comes, until it calls `release`.
 */
export interface Waiter {
  data(chunk: Buffer): void;
  /** The byte budget is spent: every byte there will be was handed over. */
  spent(): void;
  closed(): void;
  error(err: Error): void;
}

export class PeerReader {
  /** Bytes read in all (at most `cap`). */
  bytes = 0;
  /** True once the peer sent more than `cap` bytes. */
  truncated = false;
  /** The peer closed its side (or the socket was closed). */
  closed = false;
  private error: Error | null = null;
  /** `bytes` when the client last wrote: what came after is the answer to it. */
  private sentAt = 0;
  private pending: Buffer[] = [];
  private waiter: Waiter | null = null;
  private socket: Socket | null = null;

  constructor(
    private readonly cap: number,
    /** Called with each chunk's size as it is counted (first byte timing, the result's bodyBytes). */
    private readonly onBytes: () => void,
  ) {}

  private readonly onData = (chunk: Buffer): void => {
    const room = this.cap - this.bytes;
    if (chunk.length > room) {
      this.truncated = true;
      this.socket?.pause(); // nothing more is kept: stop reading
    }
    const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.bytes += kept.length;
    this.onBytes();
    if (kept.length > 0) {
      if (this.waiter) this.waiter.data(kept);
      else this.pending.push(kept);
    }
    if (this.full) this.waiter?.spent();
  };
  private readonly onClose = (): void => {
    this.closed = true;
    this.waiter?.closed();
  };
  private readonly onError = (err: Error): void => {
    this.error = err;
    this.waiter?.error(err);
  };

  /** The byte budget is spent: no byte more will be read. */
  get full(): boolean {
    return this.bytes >= this.cap;
  }

  /** Read from `socket` from now on (the connected socket, then the TLS socket of a STARTTLS). */
  attach(socket: Socket): void {
    this.socket = socket;
    socket.on('data', this.onData).once('end', this.onClose).once('close', this.onClose).once('error', this.onError);
  }

  /** The client has written: the peer's next bytes answer it. */
  sent(): void {
    this.sentAt = this.bytes;
  }

  /** Stop reading the current socket (before a STARTTLS handshake takes it over); unread bytes are dropped. */
  detach(): void {
    this.socket?.off('data', this.onData).off('end', this.onClose).off('close', this.onClose).off('error', this.onError);
    this.socket = null;
    this.pending = [];
  }

  /**
   * Hand `waiter` the bytes no step read yet, then every chunk as it comes, and the end of them
   * (the budget spent, the peer closed, a socket error), until it calls `release`.
   */
  listen(waiter: Waiter): void {
    const queued = this.pending;
    this.pending = [];
    this.waiter = waiter;
    for (const chunk of queued) {
      if (this.waiter === waiter) waiter.data(chunk);
      else this.pending.push(chunk); // the waiter is done: the rest stays for the next step
    }
    if (this.waiter !== waiter) return;
    if (this.full) waiter.spent();
    else if (this.error) waiter.error(this.error);
    else if (this.closed) waiter.closed();
  }

  /** The waiting step is done; `rest` (the bytes after its match) goes first to the next step. */
  release(rest?: Buffer): void {
    this.waiter = null;
    if (rest && rest.length > 0) this.pending.unshift(rest);
  }

  /**
   * An expect the peer closed on: `body` when it answered something else since the client last
   * wrote, `reset` when not a byte came since (or since connect, before any write): it hung up
   * rather than answered. `label` starts the message ("tcp.dialog[2]: "), `shown` is the expected text.
   */
  closedFailure(label: string, shown: string): Failure {
    if (this.bytes === this.sentAt) return { reason: FailureReason.reset, message: `${label}the peer closed the connection before sending ${shown} (${this.bytes} bytes received)` };
    return { reason: FailureReason.body, message: `${label}peer closed before sending ${shown} (${this.bytes} bytes received)` };
  }

  /**
   * Wait until `text` arrives: null when it did (bytes after it stay for the next expect);
   * `too_large` when the budget is spent without it; closedFailure when the peer closed without
   * it. Rejects on a socket error.
   */
  expect(text: string, label: string, shown: string): Promise<Failure | null> {
    const search = new ByteSearch(Buffer.from(text, 'utf8'));
    return new Promise((resolve, reject) => {
      const finish = (failure: Failure | null, rest?: Buffer): void => {
        this.release(rest);
        resolve(failure);
      };
      this.listen({
        data: (chunk) => {
          const end = search.push(chunk);
          if (end !== -1) finish(null, chunk.subarray(end));
        },
        spent: () => finish({ reason: FailureReason.too_large, message: `${label}${shown} not in the first ${this.cap} bytes` }),
        closed: () => finish(this.closedFailure(label, shown)),
        error: (err) => {
          this.release();
          reject(err);
        },
      });
    });
  }
}
