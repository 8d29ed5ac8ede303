// What `lookout notify ls` prints: one row per notifier (the list's summaries: no URL or headers),
// with whether a silence is open now and when it ends. Pure.

const pad = (rows: string[][]): string[] => {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  '));
};

export function notifierTable(notifiers: readonly any[]): string[] {
  const rows = [['NOTIFIER', 'ON', 'FORMAT', 'ATTEMPTS', 'REMIND', 'SILENCES', 'MATCH']];
  for (const n of notifiers) {
    const ids = Array.isArray(n.match?.ids) ? n.match.ids.join(',') : '*';
    const labels = Object.entries(n.match?.labels ?? {}).map(([k, v]) => `${k}=${String(v)}`);
    const silenced = n.silencedNow ? `open until ${String(n.silencedNow.endsAt)}` : `${n.silences?.length ?? 0}`;
    rows.push([String(n.id), (n.on ?? []).join(','), String(n.format), String(n.retry?.attempts ?? '-'), n.remindEveryMs ? `${n.remindEveryMs}ms` : '-', silenced, labels.length ? `${ids} ${labels.join(',')}` : ids]);
  }
  return pad(rows);
}
