// Chaos scenarios, short profile: a node, then the leader, SIGKILLed.
// LOOKOUT_CHAOS=1 (npm run test:chaos); see testkit/chaos/scenarios.ts.

import { chaosTest } from './chaos-test';

chaosTest('kill-node');
chaosTest('kill-leader');
