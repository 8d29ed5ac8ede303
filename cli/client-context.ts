// What a client command runs with: where it writes, its arguments and settings, the subjects of
// its prefix, and a NATS connection made on first use.

import type { NatsConnection } from '@nats-io/transport-node';
import type { Subjects } from '../runtime/subjects';
import type { Args, ClientSettings } from './client-args';

export interface ClientIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
}

export interface Ctx {
  io: ClientIo;
  args: Args;
  settings: ClientSettings;
  s: Subjects;
  /** Connects on first use, so local mistakes (a bad file) are reported before NATS is touched. */
  nc(): Promise<NatsConnection>;
  out(line: string): void;
  err(line: string): void;
}
