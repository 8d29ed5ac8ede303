// Lookout status page: reads the node's JSON API (/api/cluster, /api/checks, /api/checks/<id>)
// and its live events (/api/events, Server-Sent Events). Plain browser JavaScript, no build step.
// The list is one page of the view its URL names (web/view.js: prefix, labels, cursor, size),
// with Next / Previous; live changes update the rows shown and never add rows.
// Every value from the server is written with textContent (never as HTML); styles change only
// through element.style and classes (the page's Content-Security-Policy allows nothing inline).
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const ID = /^[A-Za-z0-9_-]{1,128}$/;
  const WINDOWS = ['24h', '7d', '30d'];
  /** Details (uptime, sparkline) fetched at once. */
  const PARALLEL = 4;
  /** A full reload this often, whatever the live updates said. */
  const REFRESH_MS = 30000;
  /** The fleet's counts are asked again this long after a verdict change (heartbeats carry them: ~1.5 s). */
  const FLEET_AFTER_CHANGE_MS = 2000;

  const rows = new Map(); // check id -> { tr, cells, chart }
  let detailId = null;
  let detailChart = null;

  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function fmtTime(iso) {
    if (typeof iso !== 'string') return '—';
    const t = Date.parse(iso);
    if (!Number.isFinite(t)) return '—';
    return new Date(t).toISOString().replace('T', ' ').slice(0, 19) + ' UTC';
  }

  function fmtMs(ms) {
    return typeof ms === 'number' ? (ms >= 1000 ? (ms / 1000).toFixed(1) + ' s' : ms + ' ms') : '—';
  }

  function failureText(f) {
    if (!f) return '—';
    const reason = typeof f.reason === 'string' ? f.reason : 'failed';
    return typeof f.message === 'string' && f.message ? reason + ': ' + f.message : reason;
  }

  // The published verdicts (protocol/published-verdict.ts); anything else shows as unknown.
  const VERDICTS = ['up', 'degraded', 'down', 'flapping'];
  function knownVerdict(verdict) {
    return VERDICTS.indexOf(verdict) >= 0 ? verdict : 'unknown';
  }

  function verdictBadge(verdict) {
    const v = knownVerdict(verdict);
    const b = el('span', v, 'verdict v-' + v);
    b.setAttribute('data-verdict', v);
    return b;
  }

  function showError(id, err) {
    const p = $(id);
    if (!err) {
      p.hidden = true;
      return;
    }
    p.hidden = false;
    p.textContent = err;
  }

  async function getJson(url) {
    let res;
    try {
      res = await fetch(url, { headers: { accept: 'application/json' }, cache: 'no-store' });
    } catch (cause) {
      throw new Error('cannot reach this node', { cause });
    }
    const body = await res.json().catch(() => null);
    if (!res.ok || !body || body.ok !== true) {
      const e = body && body.error;
      throw new Error(e && typeof e.message === 'string' ? e.code + ': ' + e.message : 'HTTP ' + res.status);
    }
    return body;
  }

  /** The answer of `url`, or null with the error shown in `errorId` (cleared on success). */
  async function fetchShown(url, errorId, what) {
    try {
      const body = await getJson(url);
      showError(errorId, null);
      return body;
    } catch (e) {
      showError(errorId, what + ' unavailable: ' + e.message);
      return null;
    }
  }

  // What web/notifiers.js (loaded after this script) shares of this one.
  window.LookoutPage = { el, clear, fmtTime, fmtMs, fetchShown };

  // ---- cluster ----------------------------------------------------------------------------

  async function loadCluster() {
    const c = await fetchShown('/api/cluster', 'cluster-error', 'Cluster status');
    if (!c) return;
    $('answered-by').textContent = c.answeredBy || '?';
    const leader = c.leader && typeof c.leader.node === 'string' ? c.leader.node : null;
    $('leader').textContent = leader || 'none (election in progress)';
    $('term').textContent = c.term === null || c.term === undefined ? '—' : String(c.term);
    $('epoch').textContent = c.epoch === null || c.epoch === undefined ? '—' : String(c.epoch);
    const members = Array.isArray(c.members) ? c.members : [];
    const names = (f) => members.filter(f).map((m) => m.node).join(', ') || 'none';
    $('quarantined').textContent = names((m) => m.quarantined);
    $('overloaded').textContent = names((m) => m.overloaded);
    renderFleet(c.verdicts);
    const body = $('members').tBodies[0];
    clear(body);
    for (const m of members) {
      const tr = el('tr');
      tr.setAttribute('data-member', String(m.node));
      tr.appendChild(el('td', m.node));
      tr.appendChild(el('td', m.state, 'state s-' + (/^[a-z]+$/.test(m.state) ? m.state : 'other')));
      tr.appendChild(el('td', m.node === leader ? 'leader' : 'follower'));
      const sh = m.shards || {};
      tr.appendChild(el('td', (sh.primary ?? 0) + ' / ' + (sh.total ?? 0)));
      tr.appendChild(el('td', m.checks ?? '—'));
      const notes = [];
      if (m.quarantined) notes.push(m.quarantineRefused ? 'quarantined (refused: keeps its shards)' : 'quarantined');
      if (m.overloaded) notes.push('overloaded' + (typeof m.lagMs === 'number' ? ' (lag ' + m.lagMs + ' ms)' : ''));
      if (m.relieved) notes.push('relieved of shards');
      if (m.damped) notes.push('damped (flapping)');
      tr.appendChild(el('td', notes.join('; ') || '—'));
      body.appendChild(tr);
    }
  }

  // ---- checks ------------------------------------------------------------------------------

  function rowFor(id) {
    let r = rows.get(id);
    if (r) return r;
    const tr = el('tr', null, 'check');
    tr.tabIndex = 0;
    tr.setAttribute('data-check', id);
    const cells = {};
    for (const k of ['id', 'verdict', 'since', 'uptime', 'latency', 'failure']) {
      cells[k] = el('td', null, 'c-' + k);
      tr.appendChild(cells[k]);
    }
    cells.id.textContent = id;
    cells.uptime.textContent = '…';
    cells.latency.textContent = '…';
    tr.addEventListener('click', () => openDetail(id));
    tr.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') openDetail(id);
    });
    r = { tr, cells, chart: null };
    rows.set(id, r);
    return r;
  }

  function setVerdict(r, verdict, since) {
    clear(r.cells.verdict);
    r.cells.verdict.appendChild(verdictBadge(verdict));
    r.tr.setAttribute('data-verdict', knownVerdict(verdict));
    r.cells.since.textContent = fmtTime(since);
  }

  /** A live verdict change of a row on the page (and the page's counts with it). */
  function liveVerdict(r, verdict, since) {
    setVerdict(r, verdict, since);
    renderCounts();
  }

  function renderState(r, st) {
    setVerdict(r, st.verdict, st.since);
    r.cells.failure.textContent = st.lastFailure ? failureText(st.lastFailure) + ' (' + fmtTime(st.lastFailure.at) + ')' : '—';
  }

  function uptimeBars(uptime) {
    const box = el('div', null, 'uptime');
    for (const w of WINDOWS) {
      const u = uptime && uptime[w];
      const ratio = u && typeof u.ratio === 'number' ? u.ratio : null;
      const item = el('div', null, 'bar');
      item.title = w + ': ' + (ratio === null ? 'no data' : (ratio * 100).toFixed(2) + '% up') + (u && u.retainedFully === false ? ' (partial: older changes are not kept)' : '');
      const track = el('span', null, 'track');
      const fill = el('span', null, 'fill' + (ratio !== null && ratio < 0.99 ? ' low' : ''));
      fill.style.width = (ratio === null ? 0 : Math.round(ratio * 1000) / 10) + '%';
      track.appendChild(fill);
      item.appendChild(el('span', w, 'label'));
      item.appendChild(track);
      item.appendChild(el('span', ratio === null ? '—' : (ratio * 100).toFixed(ratio === 1 ? 0 : 2) + '%', 'pct'));
      box.appendChild(item);
    }
    return box;
  }

  /** A latency chart of the history's series (p50 per period), or a line saying there is none. */
  function latencyChart(target, series, opts) {
    const points = Array.isArray(series) ? series.filter((p) => typeof p.p50Ms === 'number' || typeof p.meanMs === 'number') : [];
    clear(target);
    if (points.length < 2 || typeof window.uPlot !== 'function') {
      target.appendChild(el('span', points.length ? 'one period so far' : 'no rollups yet', 'meta'));
      return null;
    }
    const xs = points.map((p) => Date.parse(p.period) / 1000);
    const ys = points.map((p) => (typeof p.p50Ms === 'number' ? p.p50Ms : p.meanMs));
    const spark = !opts || !opts.full;
    return new window.uPlot(
      {
        width: spark ? 140 : Math.min(720, Math.max(320, target.clientWidth || 600)),
        height: spark ? 32 : 180,
        legend: { show: !spark },
        cursor: { show: !spark },
        scales: { x: { time: true } },
        axes: spark ? [{ show: false }, { show: false }] : [{}, { label: 'ms', size: 60 }],
        series: [{}, { label: 'p50 latency (ms)', stroke: '#2b6cb0', width: 1.5, fill: 'rgba(43,108,176,0.12)' }],
      },
      [xs, ys],
      target,
    );
  }

  async function loadDetails(ids) {
    const queue = ids.slice();
    const worker = async () => {
      while (queue.length > 0) {
        const id = queue.shift();
        const r = rows.get(id);
        if (!r) continue;
        try {
          const d = await getJson('/api/checks/' + encodeURIComponent(id));
          if (rows.get(id) !== r) continue; // the page moved on meanwhile
          renderState(r, d.state);
          renderCounts();
          clear(r.cells.uptime);
          if (d.history) {
            r.cells.uptime.appendChild(uptimeBars(d.history.uptime));
            if (r.chart) r.chart.destroy();
            r.chart = latencyChart(r.cells.latency, d.history.series);
          } else r.cells.uptime.textContent = 'history unavailable';
        } catch {
          r.cells.uptime.textContent = 'unavailable';
        }
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));
  }

  // ---- the list: filter, pages, counts -------------------------------------------------------

  const V = window.LookoutView;
  /** Previous pages remembered (Previous goes back through them). */
  const MAX_STACK = 500;

  let view = V.defaultView();
  /** The cursors of the pages before this one: [{after, from}]. */
  let stack = [];
  /** Where Next continues (null: this is the last page), and how many rows are shown. */
  let nextCursor = null;
  let shownCount = 0;
  let loadSeq = 0;

  function stackOf(state) {
    const s = state && Array.isArray(state.stack) ? state.stack : [];
    return s
      .filter((e) => e && (e.after === null || ID.test(e.after)) && Number.isInteger(e.from) && e.from >= 1)
      .slice(-MAX_STACK)
      .map((e) => ({ after: e.after, from: e.from }));
  }

  /** Show `next` (a new history entry when `push`) and list its checks. */
  function go(next, nextStack, push) {
    view = next;
    stack = nextStack.slice(-MAX_STACK);
    const url = location.pathname + V.viewSearch(view) + location.hash;
    if (push) history.pushState({ stack }, '', url);
    else history.replaceState({ stack }, '', url);
    syncFilter();
    loadChecks();
  }

  function syncFilter() {
    $('filter-prefix').value = view.prefix;
    $('filter-labels').value = V.labelsText(view.labels);
    $('filter-verdict').value = view.verdict;
    $('filter-size').value = String(view.size);
  }

  function readUrl(state) {
    const p = V.parseView(location.search);
    view = p.view;
    stack = view.after === null ? [] : stackOf(state);
    showError('filter-problem', p.problems.length ? 'Part of this link was ignored: ' + p.problems.join('; ') : null);
    syncFilter();
  }

  function applyFilter(e) {
    if (e) e.preventDefault();
    const labels = V.parseLabelsText($('filter-labels').value);
    const prefix = $('filter-prefix').value.trim();
    const problems = labels.problems.slice();
    if (!/^[A-Za-z0-9_-]{0,128}$/.test(prefix)) problems.push('the id prefix takes letters, digits, _ and - (at most 128)');
    if (problems.length) return showError('filter-problem', problems.join('; '));
    showError('filter-problem', null);
    const size = Number($('filter-size').value);
    const verdict = V.VERDICTS.indexOf($('filter-verdict').value) >= 0 ? $('filter-verdict').value : '';
    go({ prefix, labels: labels.labels, verdict, after: null, from: 1, size: V.PAGE_SIZES.indexOf(size) >= 0 ? size : V.DEFAULT_PAGE_SIZE }, [], true);
  }

  const COUNTED = ['down', 'degraded', 'flapping', 'up', 'unknown'];

  /** `label: N down · N degraded · …` into `box`, each count a span with data-count and data-n. */
  function showCounts(box, label, n, note) {
    clear(box);
    box.appendChild(el('span', label + ': ', 'meta'));
    COUNTED.forEach((v, i) => {
      const c = el('span', n[v] + ' ' + v, 'count v-' + v + (n[v] === 0 ? ' zero' : ''));
      c.setAttribute('data-count', v);
      c.setAttribute('data-n', String(n[v]));
      box.appendChild(c);
      if (i < COUNTED.length - 1) box.appendChild(el('span', ' · ', 'meta'));
    });
    if (note) box.appendChild(el('span', ' ' + note, 'meta'));
  }

  /** How many rows of the page say each verdict (the page's rows only; the fleet's are beside them). */
  function renderCounts() {
    const n = { down: 0, degraded: 0, flapping: 0, up: 0, unknown: 0 };
    for (const r of rows.values()) n[r.tr.getAttribute('data-verdict') || 'unknown']++;
    showCounts($('check-counts'), 'On this page', n);
  }

  /** The fleet's counts from cluster.status (`verdicts`: the members' heartbeats summed), hidden when the cluster does not say. */
  function renderFleet(v) {
    const box = $('fleet-counts');
    const counts = v && typeof v === 'object' && v.counts && typeof v.counts === 'object' ? v.counts : null;
    box.hidden = !counts;
    if (!counts) return clear(box);
    const n = {};
    for (const k of COUNTED) n[k] = Number.isSafeInteger(counts[k]) && counts[k] >= 0 ? counts[k] : 0;
    const missing = Array.isArray(v.unreported) ? v.unreported.filter((m) => typeof m === 'string').slice(0, 20) : [];
    showCounts(box, 'Fleet', n, missing.length ? '(not reported by ' + missing.join(', ') + ')' : '');
  }

  function renderPager(page) {
    const first = view.from;
    const last = view.from + page.states.length - 1;
    const filtered = view.prefix || view.labels.length || view.verdict;
    let range;
    if (page.states.length === 0) range = view.after === null ? (filtered ? 'No check matches this filter' : 'No checks yet') : 'No more checks after ' + view.after;
    else range = 'Checks ' + first + '–' + last;
    const more = page.partial
      ? ' · scanned ' + page.scanned + ' ids without filling the page: Next looks further'
      : page.next
        ? ' · more after these'
        : page.states.length
          ? ' · no more'
          : '';
    $('page-range').textContent = range + more;
    $('check-count').textContent = page.states.length ? '(' + first + '–' + last + (page.next ? ', more' : '') + ')' : '(none)';
    $('page-prev').disabled = stack.length === 0;
    $('page-first').disabled = view.after === null;
    $('page-next').disabled = !page.next;
  }

  async function loadChecks() {
    const seq = ++loadSeq;
    const v = view;
    let page;
    try {
      page = await V.fetchPage(v, (query) => getJson('/api/checks?' + query));
      showError('checks-error', null);
    } catch (e) {
      if (seq === loadSeq) showError('checks-error', 'Checks unavailable: ' + e.message);
      return;
    }
    if (seq !== loadSeq) return; // a newer view was asked for meanwhile
    nextCursor = page.next;
    shownCount = page.states.length;
    // Within the page, by id (pages follow the cluster's list order: shard, then id).
    const states = page.states.slice().sort((a, b) => (a.checkId < b.checkId ? -1 : a.checkId > b.checkId ? 1 : 0));
    const body = $('check-table').tBodies[0];
    const seen = new Set();
    for (const st of states) {
      const r = rowFor(st.checkId);
      seen.add(st.checkId);
      renderState(r, st);
      body.appendChild(r.tr);
    }
    for (const [id, r] of rows) {
      if (seen.has(id)) continue;
      if (r.chart) r.chart.destroy();
      r.tr.remove();
      rows.delete(id);
    }
    renderPager(page);
    renderCounts();
    await loadDetails(states.map((s) => s.checkId));
  }

  function nextPage() {
    if (!nextCursor) return;
    go(Object.assign({}, view, { after: nextCursor, from: view.from + shownCount }), stack.concat([{ after: view.after, from: view.from }]), true);
  }

  function prevPage() {
    const top = stack[stack.length - 1];
    if (!top) return;
    go(Object.assign({}, view, { after: top.after, from: top.after === null ? 1 : top.from }), stack.slice(0, -1), true);
  }

  function firstPage() {
    go(Object.assign({}, view, { after: null, from: 1 }), [], true);
  }

  // ---- one check ----------------------------------------------------------------------------

  async function openDetail(id) {
    if (!ID.test(id)) return;
    detailId = id;
    $('detail').hidden = false;
    $('detail-id').textContent = id;
    if (location.hash !== '#' + id) history.replaceState(history.state, '', location.pathname + location.search + '#' + id);
    await loadDetail();
    $('detail').scrollIntoView({ block: 'nearest' });
  }

  function closeDetail() {
    detailId = null;
    $('detail').hidden = true;
    history.replaceState(history.state, '', location.pathname + location.search);
  }

  async function loadDetail() {
    const id = detailId;
    if (!id) return;
    const d = await fetchShown('/api/checks/' + encodeURIComponent(id), 'detail-error', 'Check ' + id);
    if (!d || id !== detailId) return;
    const st = d.state;
    clear($('detail-verdict'));
    $('detail-verdict').appendChild(verdictBadge(st.verdict));
    $('detail-since').textContent = fmtTime(st.since);
    const lr = st.lastResult;
    $('detail-last-result').textContent = lr ? fmtTime(lr.at) + ' — ' + (lr.ok ? 'ok' : 'failed') + ', ' + fmtMs(lr.latencyMs) + ', from ' + lr.node : '—';
    $('detail-last-failure').textContent = st.lastFailure ? failureText(st.lastFailure) + ' (' + fmtTime(st.lastFailure.at) + (st.lastFailure.node ? ', ' + st.lastFailure.node : '') + ')' : '—';
    const h = d.history;
    clear($('detail-uptime'));
    if (h) $('detail-uptime').appendChild(uptimeBars(h.uptime));
    else $('detail-uptime').textContent = 'history unavailable';
    const p = h && h.probes && h.probes['24h'];
    $('detail-latency').textContent = p && p.probes > 0 ? 'p50 ≤ ' + fmtMs(p.p50Ms) + ', p90 ≤ ' + fmtMs(p.p90Ms) + ', p99 ≤ ' + fmtMs(p.p99Ms) + ' over ' + p.probes + ' probes (' + p.failures + ' failed)' : 'no rollups yet';
    if (detailChart) detailChart.destroy();
    detailChart = latencyChart($('detail-chart'), h && h.series, { full: true });
    const body = $('transitions').tBodies[0];
    clear(body);
    const changes = h && Array.isArray(h.changes) ? h.changes.slice(-50).reverse() : [];
    for (const c of changes) {
      const tr = el('tr');
      tr.appendChild(el('td', fmtTime(c.at)));
      const change = el('td');
      change.appendChild(verdictBadge(c.from));
      change.appendChild(el('span', ' → '));
      change.appendChild(verdictBadge(c.to));
      tr.appendChild(change);
      tr.appendChild(el('td', c.node || '—'));
      tr.appendChild(el('td', c.reason || '—'));
      tr.appendChild(el('td', c.message || '—'));
      body.appendChild(tr);
    }
    $('transitions-none').hidden = changes.length > 0;
  }

  // ---- live updates --------------------------------------------------------------------------

  const pending = new Map();
  let statusEvents = 0;
  /** Run `fn` once `ms` after the last call with this key (a burst of events, one reload). */
  function soon(key, ms, fn) {
    clearTimeout(pending.get(key));
    pending.set(key, setTimeout(() => {
      pending.delete(key);
      fn();
    }, ms));
  }

  /** Run `fn` `ms` after the first call with this key; calls meanwhile change nothing (a steady stream of events still reloads). */
  function atMostOnce(key, ms, fn) {
    if (pending.has(key)) return;
    pending.set(key, setTimeout(() => {
      pending.delete(key);
      fn();
    }, ms));
  }

  function setLive(on, text) {
    const l = $('live');
    l.className = 'live ' + (on ? 'on' : 'off');
    l.textContent = text;
  }

  function connect() {
    const es = new EventSource('/api/events');
    es.addEventListener('open', () => {
      setLive(true, 'live');
      soon('all', 50, reloadAll);
    });
    es.addEventListener('status', (e) => {
      let m;
      try {
        m = JSON.parse(e.data);
      } catch {
        return;
      }
      if (!m || !ID.test(m.checkId)) return;
      // How many verdict changes arrived (shown on hover; tests wait on it).
      statusEvents++;
      $('live').setAttribute('data-status-events', String(statusEvents));
      $('live').title = statusEvents + ' verdict changes received';
      // The fleet's counts travel in heartbeats: ask again once they had time to carry this change.
      atMostOnce('fleet', FLEET_AFTER_CHANGE_MS, loadCluster);
      // Only rows on the page follow (the list never grows from events; the 30 s reload and the
      // pager bring other checks).
      const r = rows.get(m.checkId);
      if (!r) return;
      liveVerdict(r, m.to, m.at);
      soon('check:' + m.checkId, 300, () => loadDetails([m.checkId]));
      if (m.checkId === detailId) soon('detail', 300, loadDetail);
    });
    es.addEventListener('cluster', () => soon('cluster', 300, loadCluster));
    es.addEventListener('error', () => {
      if (es.readyState === EventSource.CLOSED) {
        // Refused (too many clients) or the node went away: try again later, by hand.
        setLive(false, 'not live: retrying');
        setTimeout(connect, 10000);
      } else setLive(false, 'reconnecting…');
    });
  }

  async function reloadAll() {
    await Promise.all([loadCluster(), loadChecks()]);
    if (detailId) await loadDetail();
  }

  function start() {
    $('detail-close').addEventListener('click', closeDetail);
    $('filter').addEventListener('submit', applyFilter);
    $('filter-size').addEventListener('change', applyFilter);
    $('filter-verdict').addEventListener('change', applyFilter);
    $('filter-clear').addEventListener('click', () => go(V.defaultView(), [], true));
    $('page-next').addEventListener('click', nextPage);
    $('page-prev').addEventListener('click', prevPage);
    $('page-first').addEventListener('click', firstPage);
    window.addEventListener('popstate', (e) => {
      readUrl(e.state);
      loadChecks();
    });
    readUrl(history.state);
    const fromHash = location.hash.slice(1);
    if (ID.test(fromHash)) openDetail(fromHash);
    reloadAll();
    connect();
    setInterval(reloadAll, REFRESH_MS);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
