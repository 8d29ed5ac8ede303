// Lookout status page: the view its own URL names (pure, no DOM) — which checks to list and where
// the list starts — and how one page of it is read from /api/checks (fetchPage, I/O through a
// function it is given): `/?prefix=web-&label=env=prod&verdict=down&after=<id>&from=101&size=100`, so a link
// reproduces what a person saw. The URL is hostile input: a value that does not parse is dropped
// and named in `problems` (the page shows them); the JSON API checks every value again
// (protocol/status-page-query.ts answers 400 {code, message, path}). Loaded by the browser
// (window.LookoutView) and by the unit tests (module.exports); no build step.
'use strict';
/* global module -- the unit tests load this file through CommonJS */

(function (root) {
  /** Page sizes a person can pick; anything else in a URL falls back to the default. */
  const PAGE_SIZES = [25, 50, 100, 200];
  const DEFAULT_PAGE_SIZE = 100;
  /** Bounds shared with the API (protocol/state-query.ts): labels per filter, characters per key or value. */
  const MAX_LABELS = 16;
  const LABEL_MAX_CHARS = 256;
  /** Longest page query read (the API reads at most 4096 characters too). */
  const MAX_QUERY_CHARS = 4096;
  /** Highest row number a link may claim (`from`): display only, never sent to the API. */
  const MAX_FROM = 1000000000;
  const PREFIX = /^[A-Za-z0-9_-]{0,128}$/;
  const ID = /^[A-Za-z0-9_-]{1,128}$/;
  const KNOWN = ['prefix', 'label', 'verdict', 'after', 'from', 'size'];
  /** The verdicts a list may be filtered by (protocol/verdict-counts.ts; the API refuses others). */
  const VERDICTS = ['down', 'degraded', 'flapping', 'up', 'unknown'];

  /** A value as a problem may show it: short, harmless characters only. */
  const shown = (s) => String(s).slice(0, 32).replace(/[^A-Za-z0-9_=.-]/g, '?');

  /** One `k=v`: [k, v], or a problem. */
  function parseLabel(text) {
    const eq = text.indexOf('=');
    if (eq <= 0) return { problem: 'a label is key=value: "' + shown(text) + '" is not' };
    const k = text.slice(0, eq).trim();
    const v = text.slice(eq + 1).trim();
    if (!k) return { problem: 'a label is key=value: "' + shown(text) + '" is not' };
    if (k.length > LABEL_MAX_CHARS || v.length > LABEL_MAX_CHARS) return { problem: 'label keys and values are at most ' + LABEL_MAX_CHARS + ' characters' };
    return { label: [k, v] };
  }

  /** Labels added to `labels` (a later value of a key replaces an earlier one); problems pushed. */
  function addLabel(labels, text, problems) {
    const p = parseLabel(text);
    if (p.problem) return void problems.push(p.problem);
    const at = labels.findIndex((l) => l[0] === p.label[0]);
    if (at >= 0) labels[at] = p.label;
    else if (labels.length >= MAX_LABELS) problems.push('at most ' + MAX_LABELS + ' labels: the rest are ignored');
    else labels.push(p.label);
  }

  /** The labels a person typed in the box: `env=prod, team=edge` (a value cannot hold a comma here). */
  function parseLabelsText(text) {
    const labels = [];
    const problems = [];
    for (const part of String(text).slice(0, MAX_QUERY_CHARS).split(',')) if (part.trim()) addLabel(labels, part.trim(), problems);
    return { labels, problems };
  }

  const labelsText = (labels) => labels.map((l) => l[0] + '=' + l[1]).join(', ');

  function defaultView() {
    return { prefix: '', labels: [], verdict: '', after: null, from: 1, size: DEFAULT_PAGE_SIZE };
  }

  /** The view of `location.search` (with or without its `?`), and what was dropped from it. */
  function parseView(search) {
    const view = defaultView();
    const problems = [];
    let q = String(search || '');
    if (q.startsWith('?')) q = q.slice(1);
    if (q.length > MAX_QUERY_CHARS) return { view, problems: ['the link\'s query is longer than ' + MAX_QUERY_CHARS + ' characters: it is ignored'] };
    let params;
    try {
      params = new URLSearchParams(q);
    } catch {
      return { view, problems: ['the link\'s query does not parse: it is ignored'] };
    }
    const seen = new Set();
    for (const [name, value] of params) {
      if (KNOWN.indexOf(name) < 0) {
        problems.push('unknown parameter "' + shown(name) + '" ignored (' + KNOWN.join(', ') + ')');
        continue;
      }
      if (name !== 'label' && seen.has(name)) {
        problems.push('"' + name + '" is given twice: the first is used');
        continue;
      }
      seen.add(name);
      if (name === 'prefix') {
        if (PREFIX.test(value)) view.prefix = value;
        else problems.push('"prefix" is the start of a check id (letters, digits, _ and -, at most 128): "' + shown(value) + '" ignored');
      } else if (name === 'label') addLabel(view.labels, value, problems);
      else if (name === 'verdict') {
        if (VERDICTS.indexOf(value) >= 0) view.verdict = value;
        else problems.push('"verdict" is one of ' + VERDICTS.join(', ') + ': "' + shown(value) + '" ignored');
      }
      else if (name === 'after') {
        if (ID.test(value)) view.after = value;
        else problems.push('"after" is a check id: "' + shown(value) + '" ignored');
      } else if (name === 'from') {
        const n = /^\d{1,10}$/.test(value) ? Number(value) : NaN;
        if (n >= 1 && n <= MAX_FROM) view.from = n;
        else problems.push('"from" is a row number from 1 to ' + MAX_FROM + ': "' + shown(value) + '" ignored');
      } else if (name === 'size') {
        const n = /^\d{1,3}$/.test(value) ? Number(value) : NaN;
        if (PAGE_SIZES.indexOf(n) >= 0) view.size = n;
        else problems.push('"size" is one of ' + PAGE_SIZES.join(', ') + ': "' + shown(value) + '" ignored');
      }
    }
    // A row number only means something after a cursor.
    if (view.after === null) view.from = 1;
    return { view, problems };
  }

  /** The page's own query for a view (`?…`, or '' for the default view). */
  function viewSearch(view) {
    const p = new URLSearchParams();
    if (view.prefix) p.append('prefix', view.prefix);
    for (const [k, v] of view.labels) p.append('label', k + '=' + v);
    if (view.verdict) p.append('verdict', view.verdict);
    if (view.after !== null) {
      p.append('after', view.after);
      if (view.from > 1) p.append('from', String(view.from));
    }
    if (view.size !== DEFAULT_PAGE_SIZE) p.append('size', String(view.size));
    const s = p.toString();
    return s ? '?' + s : '';
  }

  /** The query of `/api/checks` for the view's filter, continuing after `after`, at most `limit` states. */
  function apiQuery(view, after, limit) {
    const p = new URLSearchParams();
    if (view.prefix) p.append('prefix', view.prefix);
    for (const [k, v] of view.labels) p.append('label', k + '=' + v);
    if (view.verdict) p.append('verdict', view.verdict);
    if (after !== null) p.append('after', after);
    p.append('limit', String(limit));
    return p.toString();
  }

  /** API requests one page may take to fill itself (each scans at most 2000 ids of the cluster). */
  const MAX_CALLS_PER_PAGE = 5;
  const ID_OK = (st) => st && typeof st.checkId === 'string' && ID.test(st.checkId);

  /**
   * One page of the view through `ask(apiQuery)` (resolves to an answer of /api/checks): up to
   * `size` states in the cluster's list order, asking for one more to know whether more exist —
   * `next` is where the next page starts, null on the last. A filter that matches few checks may
   * take several requests (each scans a bounded number of ids): after `maxCalls` the page is
   * `partial` and `next` continues the scan.
   */
  async function fetchPage(view, ask, maxCalls) {
    const calls = maxCalls || MAX_CALLS_PER_PAGE;
    const states = [];
    let after = view.after;
    let scanned = 0;
    for (let call = 1; ; call++) {
      const list = await ask(apiQuery(view, after, view.size + 1 - states.length));
      for (const st of Array.isArray(list.states) ? list.states : []) if (ID_OK(st)) states.push(st);
      scanned += typeof list.scanned === 'number' ? list.scanned : 0;
      if (states.length > view.size) return { states: states.slice(0, view.size), next: states[view.size - 1].checkId, partial: false, scanned };
      if (typeof list.next !== 'string' || !ID.test(list.next)) return { states, next: null, partial: false, scanned };
      after = list.next;
      if (call >= calls) return { states, next: after, partial: true, scanned };
    }
  }

  const api = { PAGE_SIZES, DEFAULT_PAGE_SIZE, MAX_LABELS, VERDICTS, parseView, viewSearch, apiQuery, fetchPage, parseLabelsText, labelsText, defaultView };
  if (typeof module === 'object' && module.exports) module.exports = api;
  else root.LookoutView = api;
})(typeof window === 'undefined' ? globalThis : window);
