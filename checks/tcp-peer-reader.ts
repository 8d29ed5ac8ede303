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

/** An expect that is waiting for bytes. */
interface Waiter {
  data(chunk: Buffer): void;
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
    if (kept.length === 0) return;
    if (this.waiter) this.waiter.data(kept);
    else this.pending.push(kept);
  };
  private readonly onClose = (): void => {
    this.closed = true;
    this.waiter?.closed();
  };
  private readonly onError = (err: Error): void => {
    this.error = err;
    this.waiter?.error(err);
  };

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
   * Wait until `text` arrives: null when it did (bytes after it stay for the next expect);
   * `too_large` when the budget is spent without it; `body` when the peer closed after answering
   * something else, `reset` when it closed without a byte since the client last wrote (or since
   * connect, before any write): it hung up rather than answered. Rejects on
   * a socket error. `label` starts each message ("tcp.dialog[2]: "); `shown` is the quoted text.
   */
  expect(text: string, label: string, shown: string): Promise<Failure | null> {
    const search = new ByteSearch(Buffer.from(text, 'utf8'));
    return new Promise((resolve, reject) => {
      const finish = (failure: Failure | null): void => {
        this.waiter = null;
        resolve(failure);
      };
      /** True when the step is decided by this chunk. */
      const feed = (chunk: Buffer): boolean => {
        const end = search.push(chunk);
        if (end !== -1) {
          if (end < chunk.length) this.pending.unshift(chunk.subarray(end));
          finish(null);
          return true;
        }
        if (this.bytes < this.cap) return false;
        finish({ reason: FailureReason.too_large, message: `${label}${shown} not in the first ${this.cap} bytes` });
        return true;
      };
      const closed = (): void => {
        if (this.bytes === this.sentAt) finish({ reason: FailureReason.reset, message: `${label}the peer closed the connection before sending ${shown} (${this.bytes} bytes received)` });
        else finish({ reason: FailureReason.body, message: `${label}peer closed before sending ${shown} (${this.bytes} bytes received)` });
      };
      const queued = this.pending;
      this.pending = [];
      while (queued.length > 0) {
        if (feed(queued.shift()!)) {
          this.pending.push(...queued);
          return;
        }
      }
      if (this.bytes >= this.cap) return void feed(Buffer.alloc(0)); // the budget is spent: nothing more comes
      if (this.error) return reject(this.error);
      if (this.closed) return closed();
      this.waiter = {
        data: (chunk) => void feed(chunk),
        closed,
        error: (err) => {
          this.waiter = null;
          reject(err);
        },
      };
    });
  }
}
