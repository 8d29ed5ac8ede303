// Chaos suite, short profile: the baseline — no fault; the window opens when the checks are put,
// so the first probes after a cluster forms are judged too.
// LOOKOUT_CHAOS=1 (npm run test:chaos); see testkit/chaos/scenarios.ts.

import { chaosTest } from './chaos-test';

chaosTest('formation');
