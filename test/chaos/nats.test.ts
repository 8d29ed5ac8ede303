// Chaos scenarios, short profile: the NATS server restarted; one server of a 3-server NATS cluster lost.
// LOOKOUT_CHAOS=1 (npm run test:chaos); see testkit/chaos/scenarios.ts.

import { chaosTest } from './chaos-test';

chaosTest('nats-restart');
chaosTest('nats-server-loss');
