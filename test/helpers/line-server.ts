// A line-protocol server on 127.0.0.1 for the tcp dialog tests (raw `net` sockets): on connect it
// writes `greeting`, then answers each line the client sends (CR LF or LF) with what `answer`
// returns for it — text to write, `close` to end the connection, `starttls` to write the text and
// then serve TLS on the same socket with `cert` (the client's next bytes are its ClientHello).
import net from 'node:net';
import tls from 'node:tls';
import type { TestCert } from './certs';

export type LineAnswer = string | { write?: string; then: 'close' | 'starttls' };

export interface LineServerOptions {
  greeting?: string;
  /** The answer to one line; `secure` says whether the connection runs over TLS by now. */
  answer(line: string, secure: boolean): LineAnswer;
  cert?: TestCert;
}

export interface LineServer {
  target: string;
  /** Every line received, in order, marked "tls:" once over TLS. */
  readonly lines: string[];
  close(): Promise<void>;
}

export async function startLineServer(options: LineServerOptions): Promise<LineServer> {
  const lines: string[] = [];
  const sockets = new Set<net.Socket>();
  const serve = (socket: net.Socket, secure: boolean): void => {
    sockets.add(socket);
    socket.on('error', () => {}).on('close', () => sockets.delete(socket));
    let buffer = '';
    const onData = (chunk: Buffer): void => {
      buffer += chunk.toString('utf8');
      for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
        const line = buffer.slice(0, nl).replace(/\r$/, '');
        buffer = buffer.slice(nl + 1);
        lines.push(secure ? `tls:${line}` : line);
        const a = options.answer(line, secure);
        if (typeof a === 'string') {
          socket.write(a);
          continue;
        }
        if (a.write) socket.write(a.write);
        if (a.then === 'close') return void socket.end();
        socket.off('data', onData);
        const upgraded = new tls.TLSSocket(socket, { isServer: true, key: options.cert!.key, cert: options.cert!.cert });
        upgraded.on('error', () => {});
        return serve(upgraded, true);
      }
    };
    socket.on('data', onData);
  };
  const server = net.createServer((socket) => {
    if (options.greeting) socket.write(options.greeting);
    serve(socket, false);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    target: `127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    lines,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
