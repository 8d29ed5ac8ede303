// A gRPC server on 127.0.0.1 for the grpc probe's tests and the efficiency benchmark, built with grpc-js: the standard health
// service (grpc.health.v1.Health/Check) answering from a table of service → serving status (a
// service not in the table fails with NOT_FOUND, as health.proto says), or no service at all
// (every call UNIMPLEMENTED); plaintext or TLS with a given key and certificate. It counts the calls
// it got and keeps the service names asked for, the :authority and the user-agent.
import { Server, ServerCredentials, status, type ServerUnaryCall, type sendUnaryData, type ServiceDefinition } from '@grpc/grpc-js';
import { readVarint } from '../checks/grpc-health-wire';

/** What the health service answers for a service: a serving status (0..3, or any number), or raw response bytes. */
export type HealthAnswer = number | { raw: Buffer };

export interface GrpcTestServer {
  port: number;
  /** "127.0.0.1:<port>". */
  address: string;
  /** Every Check call received: the service asked for, the :authority and user-agent it came with. */
  calls: { service: string; authority: string; userAgent: string }[];
  close(): Promise<void>;
}

export interface GrpcTestServerOptions {
  /** service name ('' = the server as a whole) → answer; absent: no health service at all. */
  health?: Record<string, HealthAnswer>;
  /** Serve TLS with this key and certificate chain (PEM; test/helpers/certs.ts makes them). */
  tls?: { key: string; cert: string };
}

/** The service field of a HealthCheckRequest (field 1, length-delimited); '' when absent. */
function serviceOf(bytes: Buffer): string {
  let service = '';
  let at = 0;
  while (at < bytes.length) {
    const key = readVarint(bytes, at);
    if ('problem' in key) throw new Error(key.problem);
    const n = readVarint(bytes, key.next);
    if ('problem' in n) throw new Error(n.problem);
    if (key.value === 0x0a) service = bytes.subarray(n.next, n.next + n.value).toString('utf8');
    at = key.value % 8 === 2 ? n.next + n.value : n.next;
  }
  return service;
}

function answerBytes(answer: HealthAnswer): Buffer {
  if (typeof answer !== 'number') return answer.raw;
  return answer === 0 ? Buffer.alloc(0) : Buffer.from([0x08, answer]);
}

const identity = (b: Buffer): Buffer => b;

const HEALTH: ServiceDefinition = {
  Check: {
    path: '/grpc.health.v1.Health/Check',
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

export async function startGrpcServer(options: GrpcTestServerOptions = {}): Promise<GrpcTestServer> {
  const server = new Server();
  const calls: GrpcTestServer['calls'] = [];
  if (options.health) {
    const table = new Map(Object.entries(options.health));
    server.addService(HEALTH, {
      Check: (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
        const service = serviceOf(call.request);
        const first = (v: unknown): string => (Array.isArray(v) ? String(v[0] ?? '') : String(v ?? ''));
        calls.push({ service, authority: call.getHost(), userAgent: first(call.metadata.get('user-agent')) });
        const answer = table.get(service);
        if (answer === undefined) callback({ code: status.NOT_FOUND, details: 'unknown service' });
        else callback(null, answerBytes(answer));
      },
    });
  }
  const credentials = options.tls
    ? ServerCredentials.createSsl(null, [{ private_key: Buffer.from(options.tls.key), cert_chain: Buffer.from(options.tls.cert) }])
    : ServerCredentials.createInsecure();
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', credentials, (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    port,
    address: `127.0.0.1:${port}`,
    calls,
    // Connections a probe left open must not hold the suite: cut what is still there.
    close: async () => server.forceShutdown(),
  };
}
