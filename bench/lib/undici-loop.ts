// A bare undici loop (reference point for the throughput benchmark): `concurrency` workers, each
// doing GET with a fresh undici Client per request (new TCP connection, closed after), for
// `seconds`. Prints one JSON line {requests, ok} at the end. argv: url concurrency seconds [keepalive]
import { Client } from 'undici';

const [url, concArg, secArg, mode] = process.argv.slice(2);
const concurrency = Number(concArg ?? 16);
const until = performance.now() + Number(secArg ?? 10) * 1000;
const origin = new URL(url!).origin;
const path = new URL(url!).pathname;
let requests = 0;
let ok = 0;

async function worker(): Promise<void> {
  const shared = mode === 'keepalive' ? new Client(origin) : null;
  while (performance.now() < until) {
    const client = shared ?? new Client(origin);
    try {
      const res = await client.request({ path, method: 'GET' });
      await res.body.dump();
      requests++;
      if (res.statusCode === 200) ok++;
    } catch {
      requests++;
    } finally {
      if (!shared) await client.close();
    }
  }
  await shared?.close();
}

Promise.all(Array.from({ length: concurrency }, worker)).then(() => {
  process.stdout.write(JSON.stringify({ requests, ok }) + '\n', () => process.exit(0));
});
