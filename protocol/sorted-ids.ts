// Ids kept in byte order under adds and deletes, for paging a list without re-sorting every id
// after each write. The order is built once (on the first page) and then kept incrementally:
// changes since the last page are held aside, and the next page folds them in — a few by binary
// search and splice, many by sorting only the new ids and merging them into the order in one pass.
// A bulk load (no page asked yet) costs nothing until the first page.

/** Pending changes past which a page merges them in one pass instead of splicing one by one. */
export const SPLICE_MAX = 32;

/** The index of the first element of `sorted` greater than `after` (byte order; null: 0). */
export function firstAfter(sorted: readonly string[], after: string | null): number {
  if (after === null) return 0;
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * `sorted` with `adds` (not in it) inserted and `dels` (in it) removed, in byte order. Changes
 * arrive in any order. Returns a new array when merging, the same array when splicing.
 */
export function foldIn(sorted: string[], adds: readonly string[], dels: ReadonlySet<string>): string[] {
  if (adds.length + dels.size <= SPLICE_MAX) {
    for (const id of dels) {
      const i = firstAfter(sorted, id) - 1;
      if (i >= 0 && sorted[i] === id) sorted.splice(i, 1);
    }
    for (const id of adds) sorted.splice(firstAfter(sorted, id), 0, id);
    return sorted;
  }
  const fresh = [...adds].sort();
  const out: string[] = new Array<string>(sorted.length - dels.size + fresh.length);
  let n = 0;
  let j = 0;
  for (const id of sorted) {
    if (dels.has(id)) continue;
    while (j < fresh.length && fresh[j]! < id) out[n++] = fresh[j++]!;
    out[n++] = id;
  }
  while (j < fresh.length) out[n++] = fresh[j++]!;
  out.length = n;
  return out;
}

export class SortedIds {
  /** Every id in byte order as of the last page, or null before the first page. */
  private order: string[] | null = null;
  /** Added since the last page (not in `order`). */
  private readonly adds = new Set<string>();
  /** Deleted since the last page (still in `order`). */
  private readonly dels = new Set<string>();

  /** `id` is now present (it was not). */
  add(id: string): void {
    if (this.order === null) return;
    if (this.dels.has(id)) this.dels.delete(id);
    else this.adds.add(id);
  }

  /** `id` is now gone (it was present). */
  delete(id: string): void {
    if (this.order === null) return;
    if (this.adds.has(id)) this.adds.delete(id);
    else this.dels.add(id);
  }

  /**
   * Ids after `after` (exclusive), at most `limit`, and the cursor of the next page (null: none).
   * `all` gives every present id, read only to build the order the first time.
   */
  page(all: () => Iterable<string>, after: string | null, limit: number): { ids: string[]; next: string | null } {
    if (this.order === null) {
      this.order = [...all()].sort();
    } else if (this.adds.size + this.dels.size > 0) {
      this.order = foldIn(this.order, [...this.adds], this.dels);
      this.adds.clear();
      this.dels.clear();
    }
    const order = this.order;
    const lo = firstAfter(order, after);
    const ids = order.slice(lo, lo + limit);
    const next = lo + limit < order.length ? ids[ids.length - 1]! : null;
    return { ids, next };
  }
}
