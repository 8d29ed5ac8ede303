// Chaos scenarios, short profile: a node whose wall clock is 30 s behind (libfaketime) joins, gives checks to a newcomer, and gains a dead node's checks.
// LOOKOUT_CHAOS=1 (npm run test:chaos); see testkit/chaos/scenarios.ts.

import { chaosTest } from './chaos-test';

chaosTest('skew-join');
chaosTest('skew-give');
chaosTest('skew-kill');
