// Lookout status page, notifications: the notifiers (GET /api/notifiers: how each routes, never its
// URL or headers) and their silences — the window open now, and when each opens next. Read-only;
// helpers from status.js (window.LookoutPage), loaded before this script.
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const REFRESH_MS = 30000;

  function matchText(m) {
    const ids = m && Array.isArray(m.ids) ? m.ids.join(', ') : 'every check';
    const labels = m && m.labels ? Object.entries(m.labels).map(([k, v]) => k + '=' + v) : [];
    return labels.length ? ids + ' with ' + labels.join(', ') : ids;
  }

  function silencesCell(n, page) {
    const td = page.el('td');
    if (n.silencedNow) {
      const s = n.silencedNow.silence || {};
      td.appendChild(page.el('span', 'silenced until ' + page.fmtTime(n.silencedNow.endsAt) + (s.comment ? ' (' + s.comment + ')' : ''), 'silenced'));
    }
    const list = Array.isArray(n.silences) ? n.silences : [];
    if (!list.length && !n.silencedNow) td.textContent = 'none';
    if (list.length) {
      const ul = page.el('ul', null, 'silences');
      for (const s of list) {
        const when = s.cron + ' ' + s.timezone + ' for ' + page.fmtMs(s.durationMs) + ', next ' + (s.nextStartsAt ? page.fmtTime(s.nextStartsAt) : 'never');
        ul.appendChild(page.el('li', s.comment ? when + ' — ' + s.comment : when));
      }
      td.appendChild(ul);
    }
    return td;
  }

  async function loadNotifiers() {
    const page = window.LookoutPage;
    const list = await page.fetchShown('/api/notifiers', 'notifiers-error', 'Notifications');
    if (!list) return;
    const notifiers = Array.isArray(list.notifiers) ? list.notifiers : [];
    $('notifier-count').textContent = '(' + (list.total ?? notifiers.length) + ')';
    $('notifiers-none').hidden = notifiers.length > 0;
    const body = $('notifier-table').tBodies[0];
    page.clear(body);
    for (const n of notifiers) {
      const tr = page.el('tr');
      tr.setAttribute('data-notifier', String(n.id));
      tr.appendChild(page.el('td', n.id, 'c-id'));
      tr.appendChild(page.el('td', matchText(n.match)));
      tr.appendChild(page.el('td', Array.isArray(n.on) ? n.on.join(', ') : '—'));
      tr.appendChild(page.el('td', n.format));
      tr.appendChild(page.el('td', n.retry ? n.retry.attempts + ' attempts, backoff ' + page.fmtMs(n.retry.backoffMs) : '—'));
      tr.appendChild(page.el('td', n.remindEveryMs ? 'every ' + page.fmtMs(n.remindEveryMs) : 'off'));
      tr.appendChild(silencesCell(n, page));
      body.appendChild(tr);
    }
  }

  function start() {
    if (!window.LookoutPage) return;
    loadNotifiers();
    setInterval(loadNotifiers, REFRESH_MS);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
