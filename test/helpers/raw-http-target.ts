// A TCP server on 127.0.0.1 that answers each HTTP request with a scripted sequence of raw bytes,
// chosen by the request path: for the differential test of the lean and undici probe paths
// (test/integration/http-lean-diff.test.ts), where the answer must be exactly the bytes given —
// split across several writes, malformed, cut short, or never finished.
import net from 'node:net';
import tls from 'node:tls';

/** One step of an answer: bytes to write (each its own write, the next one after it left), or how the connection ends. */
export type RawStep = string | Buffer | 'end' | 'reset' | 'hold';

export interface RawHttpTarget {
  url: string;
  /** Answer requests for `path` with `steps` (without 'end', 'reset' or 'hold' last: the connection is closed after the bytes). */
  set(path: string, steps: RawStep[]): void;
  /** TCP connections accepted so far (over TLS too: before any handshake). */
  connections(): number;
  close(): Promise<void>;
}

/** With `secure` (a key and certificate), the answers go over TLS and `url` is https. */
export async function startRawHttpTarget(secure?: { key: string; cert: string }): Promise<RawHttpTarget> {
  const scripts = new Map<string, RawStep[]>();
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const onConnection = (socket: net.Socket): void => {
    if (!secure) accepted++;
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    let received = '';
    const onData = (chunk: Buffer): void => {
      received += chunk.toString('latin1');
      if (!received.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      const path = received.split(' ', 2)[1] ?? '/';
      play(socket, scripts.get(path) ?? ['HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n']);
    };
    socket.on('data', onData);
  };
  const server = secure ? tls.createServer(secure, onConnection) : net.createServer(onConnection);
  if (secure) server.on('connection', () => accepted++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `${secure ? 'https' : 'http'}://127.0.0.1:${port}`,
    set: (path, steps) => void scripts.set(path, steps),
    connections: () => accepted,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Write the steps one after the other: the next write waits for the previous one to leave, then for the event loop to turn. */
function play(socket: net.Socket, steps: RawStep[]): void {
  const [step, ...rest] = steps;
  if (socket.destroyed) return;
  if (step === undefined) return void socket.end();
  if (step === 'end') return void socket.end();
  if (step === 'reset') return void socket.resetAndDestroy();
  if (step === 'hold') return;
  socket.write(step, () => setImmediate(() => play(socket, rest)));
}
