// Chaos scenarios, short profile: a rolling SIGTERM restart (a planned move: no slot missed) and a flapping node.
// LOOKOUT_CHAOS=1 (npm run test:chaos); see testkit/chaos/scenarios.ts.

import { chaosTest } from './chaos-test';

chaosTest('rolling-restart');
chaosTest('flapping');
