// The two ways a probe is stopped: an AbortController's signal (what a caller of the checks/ API may
// hand in) and the runners' ProbeStop (checks/probe-stop.ts). Probe tests run their abort cases
// with both, so either is known to stop every path.
import { ProbeStop, type StopSignal } from '../../checks/probe-stop';

export interface StopSwitch {
  signal: StopSignal;
  abort(): void;
}

export const stopSwitches: readonly (() => StopSwitch)[] = [
  () => {
    const c = new AbortController();
    return { signal: c.signal, abort: () => c.abort() };
  },
  () => {
    const s = new ProbeStop();
    return { signal: s, abort: () => s.abort() };
  },
];
