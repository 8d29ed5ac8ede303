// The `grpc` section of a CheckSpec (used by validate.ts). Field lists, order and limits come from
// the schema (checks/spec-schema-grpc.ts) through `fields`; written here is what the schema does
// not say with a clear message: the service name's characters and the latency bound:
//
//   service not letters, digits and _ . - /                format    grpc.service
//   maxLatencyMs >= timeoutMs                              conflict  grpc.maxLatencyMs
//
// tls is the shape the http and tcp sections share (checkTls). A grpc check's target is host:port,
// checked like a tcp target; its address is decided by the node's address policy (spec API,
// `denied`, and at every probe after it resolves: checks/grpc-probe.ts).
import { GrpcOptionsSchema, type GrpcOptions } from './spec-schema';
import { checkLatencyBound, checkTls, type TimeoutBound } from './validate-sections';
import { fail, object, show } from './validate-fields';
import { fields, integer, patternOf, text } from './validate-table';

const SERVICE = patternOf(GrpcOptionsSchema.properties.service);

/** The `grpc` section of a spec whose effective timeout is `timeout`. */
export function checkGrpc(path: string, v: unknown, timeout: TimeoutBound): GrpcOptions {
  const g = fields(path, object(path, v), GrpcOptionsSchema, {
    service: (p, x, s) => {
      const service = text(p, x, s);
      if (!SERVICE.test(service)) fail('format', p, `${p} ${show(service)} must be a service name of letters, digits and _ . - / (e.g. "pkg.v1.Orders")`);
      return service;
    },
    tls: checkTls,
    maxLatencyMs: integer,
  });
  checkLatencyBound(path, g.maxLatencyMs, timeout);
  return g;
}
