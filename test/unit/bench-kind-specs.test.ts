// The specs the efficiency benchmark puts for each kind (bench/lib/lookout-load.ts; BENCHMARKS.md §1)
// are valid CheckSpecs: a row of the benchmark never measures a node refusing its checks.
import { dnsSpecOf, grpcSpecOf, httpSpecOf } from '../../bench/lib/lookout-load';
import { validateSpec } from '../../checks/validate';

test.each([
  ['http', httpSpecOf(8080)],
  ['dns', dnsSpecOf('127.0.0.1:5353', 'app.bench')],
  ['grpc', grpcSpecOf('127.0.0.1:50051')],
] as const)('%s', (kind, specOf) => {
  const spec = specOf('c000042');
  expect(spec.kind).toBe(kind);
  expect(validateSpec(spec, 'c000042')).toMatchObject({ ok: true });
});
