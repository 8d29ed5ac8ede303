// Moved to testkit/tcp-proxy.ts (the chaos harness shares it); re-exported here so tests that
// import it from test/helpers — those on other branches too — keep working.
export * from '../../testkit/tcp-proxy';
