// Scrape a Prometheus text endpoint and read samples out of it.

export type Samples = Map<string, number>;

/** Parse the text exposition: key is `name{labels}` exactly as written (or `name`). */
export function parseProm(text: string): Samples {
  const out: Samples = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const sp = line.lastIndexOf(' ');
    if (sp < 0) continue;
    out.set(line.slice(0, sp), Number(line.slice(sp + 1)));
  }
  return out;
}

export async function scrape(port: number, path = '/metrics'): Promise<Samples> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  if (!res.ok) throw new Error(`GET ${path} on :${port}: ${res.status}`);
  return parseProm(await res.text());
}

/** Sum of every sample of `name` (any labels) whose label text contains all of `match`. */
export function sum(s: Samples, name: string, ...match: string[]): number {
  let total = 0;
  for (const [k, v] of s) {
    const base = k.split('{')[0];
    if (base !== name) continue;
    if (match.every((m) => k.includes(m))) total += v;
  }
  return total;
}

export function value(s: Samples, key: string): number | undefined {
  return s.get(key);
}

/**
 * Quantile from a cumulative histogram (`<name>_bucket{le="..."}`): the upper bound of the first
 * bucket whose count reaches q of the total — an upper estimate, at bucket resolution.
 */
export function histogramQuantile(s: Samples, name: string, q: number): { le: number; count: number } {
  const buckets: { le: number; c: number }[] = [];
  for (const [k, v] of s) {
    if (!k.startsWith(`${name}_bucket{`)) continue;
    const m = /le="([^"]+)"/.exec(k);
    if (!m) continue;
    buckets.push({ le: m[1] === '+Inf' ? Infinity : Number(m[1]), c: v });
  }
  buckets.sort((a, b) => a.le - b.le);
  const total = buckets.length ? buckets[buckets.length - 1]!.c : 0;
  for (const b of buckets) if (b.c >= q * total) return { le: b.le, count: total };
  return { le: NaN, count: total };
}

/** Difference of two histogram snapshots (later − earlier), bucket by bucket. */
export function histogramDelta(later: Samples, earlier: Samples, name: string): Samples {
  const out: Samples = new Map();
  for (const [k, v] of later) if (k.startsWith(`${name}_`)) out.set(k, v - (earlier.get(k) ?? 0));
  return out;
}
