// Errors returned to users for a rejected spec or a failed spec request. On the wire:
// {"code": ..., "message": ..., "path": ...}; clients match on `code`.

export const SpecErrorCode = {
  /** The payload is not valid UTF-8 JSON. */
  invalid_json: 'invalid_json',
  /** The payload is JSON but not an object (or a field that must be an object is not). */
  not_object: 'not_object',
  /** The payload is larger than the configured maximum spec size. */
  too_large: 'too_large',
  /** The id in the subject is not a valid check id. */
  invalid_id: 'invalid_id',
  /** The payload's `id` differs from the id in the subject. */
  id_mismatch: 'id_mismatch',
  /** A field that is not part of CheckSpec v1. */
  unknown_field: 'unknown_field',
  /** A required field is missing. */
  required: 'required',
  /** A field has the wrong JSON type. */
  type: 'type',
  /** A number outside its allowed range, or a string / list too long or too short. */
  range: 'range',
  /** A value not in the allowed set (kind, method, policy type, ...). */
  enum: 'enum',
  /**
   * A string that does not parse as what it must be (URL, host:port, regex, JSON path), or is not
   * well-formed Unicode (a lone surrogate).
   */
  format: 'format',
  /**
   * Valid syntax elsewhere that Lookout does not run: a regex feature RE2 lacks (backreferences,
   * lookaround, atomic groups, possessive quantifiers, ...). The message names the feature.
   */
  unsupported: 'unsupported',
  /** Fields that are each valid but contradict each other (timeoutMs >= intervalMs, ...). */
  conflict: 'conflict',
  /**
   * The target is an address or host name the answering node's address policy denies
   * (LOOKOUT_TARGET_ALLOW / LOOKOUT_TARGET_DENY, the built-in rules, the node's own endpoints).
   */
  denied: 'denied',
  /** get/delete of an id that is not stored. */
  not_found: 'not_found',
  /** The request itself is malformed (bad list paging parameters, ...). */
  bad_request: 'bad_request',
  /** The store could not be reached or refused the write, or the API is over its rate; nothing was applied. */
  unavailable: 'unavailable',
  /** The cluster already stores LOOKOUT_MAX_SPECS checks: a new id is refused (updates and deletes work). */
  limit: 'limit',
  /** The spec bucket is at its byte limit (LOOKOUT_SPECS_MAX_BYTES): delete specs or raise the limit. */
  storage_full: 'storage_full',
} as const;
export type SpecErrorCode = (typeof SpecErrorCode)[keyof typeof SpecErrorCode];

export interface SpecErrorBody {
  code: SpecErrorCode;
  message: string;
  /** JSON pointer-ish path of the offending field, e.g. "http.expectStatus[1]"; "" for the whole payload. */
  path: string;
}

export class SpecError extends Error {
  readonly code: SpecErrorCode;
  readonly path: string;
  constructor(code: SpecErrorCode, message: string, path = '') {
    super(message);
    this.name = 'SpecError';
    this.code = code;
    this.path = path;
  }
  toJSON(): SpecErrorBody {
    return { code: this.code, message: this.message, path: this.path };
  }
}
