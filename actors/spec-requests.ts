// What the spec API answers: one function per request kind, I/O only through the SpecStore port
// and the catalog. Nothing is stored unless the whole spec is valid and its literal target is
// allowed by the node's address policy; a failed write is reported as `unavailable` and nothing
// is applied.

import { decideTarget, showEndpoint, targetEndpoint, type AddressPolicy } from '../checks/address-policy';
import type { CheckSpec } from '../checks/spec';
import { SpecErrorCode, type SpecErrorBody } from '../checks/spec-error';
import { specJsonSchema } from '../checks/spec-json-schema';
import { decodeSpecPayload } from '../checks/validate';
import { ErrorCode, hasCode, messageOf } from '../protocol/errors';
import { isValidCheckId, type SpecOp } from '../runtime/subjects';
import type { SpecStore } from '../runtime/store';
import type { SpecCatalog } from './spec-catalog';

export const LIST_DEFAULT_LIMIT = 1000;
export const LIST_MAX_LIMIT = 10_000;

export type SpecRequest = { op: SpecOp; id: string; payload: Uint8Array } | { op: 'list'; payload: Uint8Array } | { op: 'schema'; payload: Uint8Array };

export type Reply = { ok: true; [k: string]: unknown } | { ok: false; error: SpecErrorBody; retryAfterMs?: number };

export interface SpecRequestDeps {
  store: SpecStore;
  catalog: SpecCatalog;
  maxSpecBytes: number;
  /** The node's address policy: a spec whose literal target it denies is rejected up front. */
  targetPolicy: AddressPolicy;
  /** Most specs the cluster stores (LOOKOUT_MAX_SPECS), judged on this node's catalog. */
  maxSpecs: number;
}

const fail = (code: SpecErrorCode, message: string, path = ''): Reply => ({ ok: false, error: { code, message, path } });

function unavailable(err: unknown): Reply {
  if (hasCode(err, ErrorCode.spec_bucket_full)) return fail(SpecErrorCode.storage_full, `${messageOf(err)}; nothing was changed`);
  return fail(SpecErrorCode.unavailable, `spec store unavailable: ${messageOf(err)}; nothing was changed`);
}

export async function handleSpecRequest(req: SpecRequest, deps: SpecRequestDeps): Promise<Reply> {
  if (req.op === 'list') return list(req.payload, deps.catalog);
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
      if (!deps.catalog.get(req.id) && deps.catalog.size >= deps.maxSpecs) {
        return fail(SpecErrorCode.limit, `the cluster stores ${deps.catalog.size} checks, the most LOOKOUT_MAX_SPECS (${deps.maxSpecs}) allows: delete some or raise the limit; nothing was changed`, 'id');
      }
      try {
        const revision = await deps.store.put(req.id, decoded.spec);
        return { ok: true, id: req.id, revision };
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
  const decision = decideTarget(policy, spec.kind, spec.target);
  if (!decision?.denied) return null;
  const where = showEndpoint(decision.address, targetEndpoint(spec.kind, spec.target)!.port);
  return fail(SpecErrorCode.denied, `target ${where} is denied by this node's address policy: ${decision.rule}`, 'target');
}

/**
 * `spec.list`: optional JSON body {"after": "<id>", "limit": n}. Ids come in byte order from this
 * node's catalog (it follows the bucket within milliseconds; a spec acknowledged a moment ago may
 * be missing from a list served by another node for that long).
 */
function list(payload: Uint8Array, catalog: SpecCatalog): Reply {
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
  const { ids, next } = catalog.page(after, limit);
  return { ok: true, ids, next, total: catalog.size };
}
