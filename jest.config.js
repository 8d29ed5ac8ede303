// The chaos suite (test/chaos/: real processes, faults injected, ~20–40 s per scenario) runs only
// with LOOKOUT_CHAOS=1, one scenario at a time (`npm run chaos:short`, the last step of `npm test`):
// the plain `jest` run leaves it out, so the two never load the machine together. With it, the rows of every
// scenario are printed as one table at the end (test/chaos/table-setup.ts, table-teardown.ts).
const chaos = process.env.LOOKOUT_CHAOS === '1';
// test/solo/ holds suites that load the whole machine on purpose (the overload test pins two busy
// loops beside a node): they run alone (`npm run test:solo`, after the plain jest run in `npm test`),
// never beside other suites whose timing they would starve.
const solo = process.env.LOOKOUT_SOLO === '1';

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', ...(chaos ? [] : ['<rootDir>/test/chaos/']), ...(solo ? [] : ['<rootDir>/test/solo/'])],
  ...(chaos ? { globalSetup: '<rootDir>/test/chaos/table-setup.ts', globalTeardown: '<rootDir>/test/chaos/table-teardown.ts' } : {}),
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }] },
  moduleFileExtensions: ['ts', 'js', 'json'],
  // Integration suites spawn real nats-servers and targets; give them room on a 2-core machine.
  testTimeout: 60000,
  // One suite at a time: two 3-node clusters side by side on two cores stalled node event loops past
  // the test profile's pause threshold (640 ms) on a slower host, and the nodes rightly took their
  // own stalls for pauses (2026-11-30: 5 cluster suites failed in a quiet CI run, all passed in band).
  maxWorkers: 1,
  // Exit once every suite has reported. Since the sharded spec layout, an in-process node stopped at
  // the end of test/integration/storage.test.ts leaves a nats.js push-consumer idle-heartbeat timer
  // running after its connection closed (it logs "Cannot log after tests are done … ClosedConnectionError"
  // and keeps jest alive forever); `lookout node` itself exits with process.exit after its graceful
  // stop, so only the test process is held. Reproduce: `npx jest --runInBand --detectOpenHandles
  // test/integration/storage.test.ts`. Open in README, Not built yet.
  forceExit: true,
};
