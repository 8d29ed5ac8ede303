// A socket as checks/tcp-peer-reader.ts sees it: an emitter of data / end / close / error that
// can be paused. For unit tests of the reading steps of a tcp dialog, without a network.
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { PeerReader } from '../../checks/tcp-peer-reader';

export type FakeSocket = Socket & { paused: boolean };

export function fakeSocket(): FakeSocket {
  const s = new EventEmitter() as EventEmitter & { paused: boolean; pause(): unknown };
  s.paused = false;
  s.pause = () => (s.paused = true);
  return s as unknown as FakeSocket;
}

/** A reader of at most `cap` bytes on a fresh fake socket. */
export function readerOn(cap = 64): { socket: FakeSocket; reader: PeerReader } {
  const socket = fakeSocket();
  const reader = new PeerReader(cap, () => {});
  reader.attach(socket);
  return { socket, reader };
}
