// Chaos scenarios, short profile: a node, then the leader, paused (SIGSTOP) past the dead threshold and the lease;
// the leader paused past the dead threshold only (it wakes before any new map).
// LOOKOUT_CHAOS=1 (npm run test:chaos); see testkit/chaos/scenarios.ts.

import { chaosTest } from './chaos-test';

chaosTest('pause-node');
chaosTest('pause-leader');
chaosTest('pause-leader-short');
