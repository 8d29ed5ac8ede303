// ProbeStop: the runners' stop switch for a probe in flight (checks/probe-stop.ts) behaves as an
// AbortSignal does for what a probe reads of it: `aborted`, and 'abort' listeners called once.
import { InFlightStops, ProbeStop } from '../../checks/probe-stop';
import { stopSwitches } from '../helpers/stop-switches';

function recorder(): { calls: string[]; listener: (name: string) => () => void } {
  const calls: string[] = [];
  return { calls, listener: (name) => () => void calls.push(name) };
}

describe('ProbeStop', () => {
  test.each([
    { what: 'one listener, aborted twice: called once', add: ['a'], remove: [], expected: ['a'] },
    { what: 'two listeners: both, in the order added', add: ['a', 'b'], remove: [], expected: ['a', 'b'] },
    { what: 'three listeners, the first removed', add: ['a', 'b', 'c'], remove: ['a'], expected: ['b', 'c'] },
    { what: 'three listeners, the middle one removed', add: ['a', 'b', 'c'], remove: ['b'], expected: ['a', 'c'] },
    { what: 'every listener removed: nothing called', add: ['a', 'b'], remove: ['a', 'b'], expected: [] },
    { what: 'no listener', add: [], remove: [], expected: [] },
  ])('$what', ({ add, remove, expected }) => {
    const stop = new ProbeStop();
    const { calls, listener } = recorder();
    const listeners = new Map(add.map((name) => [name, listener(name)]));
    for (const l of listeners.values()) stop.addEventListener('abort', l);
    for (const name of remove) stop.removeEventListener('abort', listeners.get(name)!);
    expect(stop.aborted).toBe(false);
    stop.abort();
    stop.abort();
    expect(stop.aborted).toBe(true);
    expect(calls).toEqual(expected);
  });

  test('a listener added after the abort is never called (as with an AbortSignal), and removing an unknown one is harmless', () => {
    const stop = new ProbeStop();
    const { calls, listener } = recorder();
    stop.removeEventListener('abort', listener('never added'));
    stop.abort();
    stop.addEventListener('abort', listener('late'));
    stop.abort();
    expect(calls).toEqual([]);

    const signal = AbortSignal.abort();
    signal.addEventListener('abort', listener('late on an AbortSignal'));
    expect(calls).toEqual([]);
  });

  test.each(stopSwitches.map((make, i) => ({ kind: ['AbortController', 'ProbeStop'][i], make })))(
    'a listener that removes a later one while the abort runs keeps it from being called ($kind)',
    ({ make }) => {
      const stop = make();
      const calls: string[] = [];
      const third = (): void => void calls.push('third');
      stop.signal.addEventListener('abort', () => {
        calls.push('first');
        stop.signal.removeEventListener('abort', third);
      });
      stop.signal.addEventListener('abort', () => void calls.push('second'));
      stop.signal.addEventListener('abort', third);
      stop.abort();
      expect(calls).toEqual(['first', 'second']);
    },
  );
});

describe('InFlightStops', () => {
  test('set, get, delete and size as a Map of token to stop would give them, through reuse of freed places', () => {
    const inFlight = new InFlightStops();
    const model = new Map<number, ProbeStop>();
    // A fixed walk of sets and deletes: in flight grows to 3, empties, grows again; a token set twice replaces.
    const steps: [op: 'set' | 'delete', token: number][] = [
      ['set', 1], ['set', 2], ['set', 3], ['delete', 2], ['set', 4], ['delete', 1], ['delete', 9], ['set', 4],
      ['delete', 3], ['delete', 4], ['delete', 4], ['set', 5], ['set', 6], ['delete', 6], ['set', 7],
    ];
    for (const [op, token] of steps) {
      if (op === 'set') {
        const stop = new ProbeStop();
        inFlight.set(token, stop);
        model.set(token, stop);
      } else expect(inFlight.delete(token)).toBe(model.delete(token));
      expect(inFlight.size).toBe(model.size);
      for (const t of [1, 2, 3, 4, 5, 6, 7, 9]) expect([t, inFlight.get(t)]).toEqual([t, model.get(t)]);
    }
  });

  test('abortAll aborts every probe in flight, even when an abort settles its probe and deletes it at once', () => {
    const inFlight = new InFlightStops();
    const stops = [10, 11, 12].map((token) => {
      const stop = new ProbeStop();
      stop.addEventListener('abort', () => void inFlight.delete(token));
      inFlight.set(token, stop);
      return stop;
    });
    inFlight.abortAll();
    expect(stops.map((s) => s.aborted)).toEqual([true, true, true]);
    expect(inFlight.size).toBe(0);
  });
});
