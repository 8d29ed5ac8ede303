// The dev cluster's state folder (`.lookout-dev` by default), kept safe for a newcomer:
//   - a lock (`<dir>/lock`: the pid of the `lookout dev` that holds it, and its NATS URL): a second
//     `npm start` on the same folder says one is running, with its URL, instead of starting a
//     second nats-server on the same JetStream store; a lock left by a process that is gone is
//     taken over;
//   - `<dir>/env` (`export NATS_URL=…`): `source .lookout-dev/env` in another shell, then
//     `./lookout watch`;
//   - the NATS port: the standard 4222 when it is free (the URL stays the same from run to run),
//     else any free port.

import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';

/** The port a dev cluster's nats-server takes when it is free. */
export const DEV_NATS_PORT = 4222;

export interface DevLock {
  pid: number;
  natsUrl: string | null;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** The lock in `dir`, or null (none, unreadable, or left by a process that is gone). */
export function heldLock(dir: string): DevLock | null {
  const file = join(dir, 'lock');
  if (!existsSync(file)) return null;
  try {
    const raw = JSON.parse(readFileSync(file, 'utf8')) as Partial<DevLock>;
    if (typeof raw.pid !== 'number' || !Number.isSafeInteger(raw.pid) || raw.pid <= 0 || raw.pid === process.pid || !alive(raw.pid)) return null;
    return { pid: raw.pid, natsUrl: typeof raw.natsUrl === 'string' ? raw.natsUrl : null };
  } catch {
    return null;
  }
}

/** Take the lock of `dir` for this process, or throw saying who holds it. */
export function lockDevDir(dir: string): void {
  const held = heldLock(dir);
  if (held) {
    const url = held.natsUrl ? `, NATS_URL=${held.natsUrl}` : '';
    throw new Error(`a dev cluster already runs on ${dir} (lookout dev, pid ${held.pid}${url}); stop it with Ctrl-C where it runs, or give this one another --dir`);
  }
  writeFileSync(join(dir, 'lock'), JSON.stringify({ pid: process.pid, natsUrl: null }));
}

/** Record the cluster's NATS URL: in the lock (for a second start to show) and in `<dir>/env`. */
export function publishDevUrl(dir: string, natsUrl: string): string {
  writeFileSync(join(dir, 'lock'), JSON.stringify({ pid: process.pid, natsUrl }));
  const env = join(dir, 'env');
  writeFileSync(env, `# written by lookout dev (pid ${process.pid}); removed when it stops\nexport NATS_URL=${natsUrl}\n`);
  return env;
}

/** Give the folder back: the lock and the env file go (only when this process holds the lock). */
export function unlockDevDir(dir: string): void {
  try {
    const raw = JSON.parse(readFileSync(join(dir, 'lock'), 'utf8')) as Partial<DevLock>;
    if (raw.pid !== process.pid) return;
  } catch {
    return;
  }
  rmSync(join(dir, 'env'), { force: true });
  rmSync(join(dir, 'lock'), { force: true });
}

/** DEV_NATS_PORT when nothing listens on it on 127.0.0.1, else undefined (any free port). */
export async function preferredNatsPort(port = DEV_NATS_PORT): Promise<number | undefined> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(undefined));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(port)));
  });
}
