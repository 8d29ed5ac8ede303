// A NATS client written from the protocol text, with no NATS library: proof that Lookout's
// contract does not depend on any client code of ours (or on nats.js). Handles INFO, PING/PONG,
// SUB, PUB and MSG frames — enough to publish a spec and read results.

import net from 'node:net';

export interface RawMsg {
  subject: string;
  sid: number;
  reply: string | null;
  payload: string;
}

export class RawNatsClient {
  readonly messages: RawMsg[] = [];
  private buf = Buffer.alloc(0);
  private nextSid = 1;
  private pongs = 0;

  private constructor(private readonly sock: net.Socket) {
    sock.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.parse();
    });
    sock.on('error', () => {});
  }

  static async connect(port: number): Promise<RawNatsClient> {
    const sock = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => sock.once('connect', resolve).once('error', reject));
    const c = new RawNatsClient(sock);
    sock.write('CONNECT {"verbose":false,"pedantic":false,"name":"raw-protocol-test","lang":"none","version":"0"}\r\n');
    return c;
  }

  /** Resolves once the server has answered a PING: everything sent before it was processed. */
  async flush(): Promise<void> {
    const want = this.pongs + 1;
    this.sock.write('PING\r\n');
    while (this.pongs < want) await new Promise((r) => setImmediate(r));
  }

  subscribe(subject: string): number {
    const sid = this.nextSid++;
    this.sock.write(`SUB ${subject} ${sid}\r\n`);
    return sid;
  }

  publish(subject: string, payload: string, reply?: string): void {
    const bytes = Buffer.byteLength(payload);
    this.sock.write(`PUB ${subject}${reply ? ` ${reply}` : ''} ${bytes}\r\n${payload}\r\n`);
  }

  close(): void {
    this.sock.destroy();
  }

  private parse(): void {
    for (;;) {
      const eol = this.buf.indexOf('\r\n');
      if (eol < 0) return;
      const line = this.buf.subarray(0, eol).toString();
      if (line.startsWith('MSG ')) {
        const parts = line.split(' ');
        const size = Number(parts[parts.length - 1]);
        if (this.buf.length < eol + 2 + size + 2) return; // wait for the whole payload
        const payload = this.buf.subarray(eol + 2, eol + 2 + size).toString();
        this.messages.push({ subject: parts[1]!, sid: Number(parts[2]), reply: parts.length === 5 ? parts[3]! : null, payload });
        this.buf = this.buf.subarray(eol + 2 + size + 2);
        continue;
      }
      this.buf = this.buf.subarray(eol + 2);
      if (line === 'PING') this.sock.write('PONG\r\n');
      else if (line === 'PONG') this.pongs++;
      else if (line.startsWith('-ERR')) throw new Error(`NATS server error: ${line}`);
      // INFO and +OK need no answer
    }
  }
}
