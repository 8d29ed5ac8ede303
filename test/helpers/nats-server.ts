// Moved to testkit/nats-server.ts (the chaos benchmark shares it); re-exported here so tests that
// import it from test/helpers — those on other branches too — keep working.
export * from '../../testkit/nats-server';
