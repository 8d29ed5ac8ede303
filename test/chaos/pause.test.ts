// Chaos scenarios, short profile: a node, then the leader, paused (SIGSTOP) past the dead threshold and the lease.
// LOOKOUT_CHAOS=1 (npm run test:chaos); see testkit/chaos/scenarios.ts.

import { chaosTest } from './chaos-test';

chaosTest('pause-node');
chaosTest('pause-leader');
