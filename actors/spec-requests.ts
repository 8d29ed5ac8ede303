// What the spec API answers: one function per request kind, I/O only through the spec store port
// (any id, whatever shards this node holds) and the cluster's spec total. Nothing is stored unless the whole spec is valid and its literal target is
// allowed by the node's address policy; a failed write is reported as `unavailable` and nothing
// is applied.

import { decideTarget, showEndpoint, targetEndpoint, type AddressPolicy } from '../checks/address-policy';
import type { CheckSpec } from '../checks/spec';
import { SpecErrorCode, type SpecErrorBody } from '../checks/spec-error';
import { specJsonSchema } from '../checks/spec-json-schema';
import { decodeSpecPayload } from '../checks/validate';
import { ErrorCode, hasCode, messageOf } from '../protocol/errors';
import { isValidCheckId, type SpecOp } from '../runtime/subjects';
import type { ShardedSpecStore } from '../runtime/shard-spec-store';

export const LIST_DEFAULT_LIMIT = 1000;
export const LIST_MAX_LIMIT = 10_000;

export type SpecRequest = { op: SpecOp; id: string; payload: Uint8Array } | { op: 'list'; payload: Uint8Array } | { op: 'schema'; payload: Uint8Array };

export type Reply = { ok: true; [k: string]: unknown } | { ok: false; error: SpecErrorBody; retryAfterMs?: number };

export interface SpecRequestDeps {
  store: ShardedSpecStore;
  /** How many specs the cluster stores, as the members last said (lags writes by about a heartbeat). */
  specTotal(): number;
  maxSpecBytes: number;
  /** The node's address policy: a spec whose literal target it denies is rejected up front. */
  targetPolicy: AddressPolicy;
  /** Most specs the cluster stores (LOOKOUT_MAX_SPECS), judged on specTotal. */
  maxSpecs: number;
  /** Vantage points per shard (LOOKOUT_VANTAGE_POINTS): a check runs from at most this many nodes. */
  vantagePoints?: number;
}

/** Something about a stored spec its author should know: stored as written, run differently. */
export interface SpecWarning {
  code: 'replicas_capped';
  message: string;
  path: string;
}

/** `replicas` above the cluster's vantage points runs from that many nodes only (the shard's owner list). */
export function specWarnings(replicas: number | undefined, vantagePoints: number | undefined): SpecWarning[] {
  if (replicas === undefined || vantagePoints === undefined || replicas <= vantagePoints) return [];
  return [{ code: 'replicas_capped', message: `replicas ${replicas} asks for more vantage points than the cluster has (LOOKOUT_VANTAGE_POINTS=${vantagePoints}): the check runs from ${vantagePoints}`, path: 'replicas' }];
}

const fail = (code: SpecErrorCode, message: string, path = ''): Reply => ({ ok: false, error: { code, message, path } });

function unavailable(err: unknown): Reply {
  if (hasCode(err, ErrorCode.spec_bucket_full)) return fail(SpecErrorCode.storage_full, `${messageOf(err)}; nothing was changed`);
  return fail(SpecErrorCode.unavailable, `spec store unavailable: ${messageOf(err)}; nothing was changed`);
}

export async function handleSpecRequest(req: SpecRequest, deps: SpecRequestDeps): Promise<Reply> {
  if (req.op === 'list') return list(req.payload, deps);
  if (req.op === 'schema') return { ok: true, schema: specJsonSchema() };
  if (!isValidCheckId(req.id)) {
    return fail(SpecErrorCode.invalid_id, 'check id must match ^[A-Za-z0-9_-]{1,128}$', 'id');
  }
  switch (req.op) {
    case 'put': {
      const decoded = decodeSpecPayload(req.payload, req.id, deps.maxSpecBytes);
      if (!decoded.ok) return { ok: false, error: decoded.error };
      const denied = deniedTarget(decoded.spec, deps.targetPolicy);
      if (denied) return denied;
      try {
        const total = deps.specTotal();
        if (total >= deps.maxSpecs && !(await deps.store.get(req.id))) {
          return fail(SpecErrorCode.limit, `the cluster stores ${total} checks, the most LOOKOUT_MAX_SPECS (${deps.maxSpecs}) allows: delete some or raise the limit; nothing was changed`, 'id');
        }
        const revision = await deps.store.put(req.id, decoded.spec);
        const warnings = specWarnings(decoded.spec.replicas, deps.vantagePoints);
        return { ok: true, id: req.id, revision, ...(warnings.length > 0 ? { warnings } : {}) };
      } catch (err) {
        return unavailable(err);
      }
    }
    case 'delete':
      try {
        const existed = await deps.store.delete(req.id);
        return { ok: true, id: req.id, existed };
      } catch (err) {
        return unavailable(err);
      }
    case 'get':
      try {
        const stored = await deps.store.get(req.id);
        if (!stored) return fail(SpecErrorCode.not_found, `no spec with id ${req.id}`, 'id');
        return { ok: true, id: req.id, revision: stored.revision, spec: stored.spec };
      } catch (err) {
        return unavailable(err);
      }
    default: {
      const never: never = req;
      return fail(SpecErrorCode.bad_request, `unknown operation ${JSON.stringify(never)}`);
    }
  }
}

/**
 * The rejection of a spec whose target is an IP literal (any form) or a host name the policy
 * denies. Other names pass: what they resolve to is decided at every connect.
 */
function deniedTarget(spec: CheckSpec, policy: AddressPolicy): Reply | null {
  // A dns check's target is a name to ask about, not an address; the server it asks is one.
  if (spec.kind === 'dns') return spec.dns?.server !== undefined ? deniedDnsServer(spec.dns.server, policy) : null;
  // A push check reaches nothing: the job reports in.
  if (spec.kind === 'push' || spec.target === undefined) return null;
  const decision = decideTarget(policy, spec.kind, spec.target);
  if (!decision?.denied) return null;
  const where = showEndpoint(decision.address, targetEndpoint(spec.kind, spec.target)!.port);
  return fail(SpecErrorCode.denied, `target ${where} is denied by this node's address policy: ${decision.rule}`, 'target');
}

/** The rejection of a dns check whose server is an IP literal or a host name the policy denies (as deniedTarget). */
function deniedDnsServer(server: string, policy: AddressPolicy): Reply | null {
  const decision = decideTarget(policy, 'tcp', server);
  if (!decision?.denied) return null;
  const where = showEndpoint(decision.address, targetEndpoint('tcp', server)!.port);
  return fail(SpecErrorCode.denied, `DNS server ${where} is denied by this node's address policy: ${decision.rule}`, 'dns.server');
}

/**
 * `spec.list`: optional JSON body {"after": "<id>", "limit": n}. Ids come from the bucket's keys,
 * one shard at a time, ordered by (shard, id) (runtime/shard-spec-store.ts); `next` is the cursor.
 * `total` is the cluster's spec count as the members last said (it lags writes by a heartbeat).
 */
async function list(payload: Uint8Array, deps: SpecRequestDeps): Promise<Reply> {
  let after: string | null = null;
  let limit = LIST_DEFAULT_LIMIT;
  if (payload.length > 0) {
    let body: unknown;
    try {
      body = JSON.parse(Buffer.from(payload).toString('utf8'));
    } catch {
      return fail(SpecErrorCode.invalid_json, 'list request body must be JSON: {"after": "<id>", "limit": n}');
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) return fail(SpecErrorCode.not_object, 'list request body must be a JSON object');
    for (const [k, v] of Object.entries(body)) {
      if (k === 'after') {
        if (typeof v !== 'string') return fail(SpecErrorCode.type, '"after" must be a check id string', 'after');
        after = v;
      } else if (k === 'limit') {
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > LIST_MAX_LIMIT) {
          return fail(SpecErrorCode.range, `"limit" must be an integer from 1 to ${LIST_MAX_LIMIT}`, 'limit');
        }
        limit = v;
      } else return fail(SpecErrorCode.unknown_field, `unknown field "${k}" in list request`, k);
    }
  }
  if (after !== null && !isValidCheckId(after)) return fail(SpecErrorCode.invalid_id, '"after" must be a check id', 'after');
  try {
    const { ids, next } = await deps.store.list(after, limit);
    return { ok: true, ids, next, total: deps.specTotal() };
  } catch (err) {
    return unavailable(err);
  }
}
