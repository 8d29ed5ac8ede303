// Chaos scenarios, short profile: one node's NATS link frozen, then cut (a TCP proxy between it and NATS).
// LOOKOUT_CHAOS=1 (npm run test:chaos); see testkit/chaos/scenarios.ts.

import { chaosTest } from './chaos-test';

chaosTest('link-freeze');
chaosTest('link-cut');
