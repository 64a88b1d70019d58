// #/completeness: per channel and locale, how many products are complete,
// and which attributes the others miss. ?at=CHANNEL/LOCALE lists those.
import { all, schema } from '../api.js';
import { h, problemBox } from '../ui.js';
import { labelOf, ratio, refreshNotice } from './common.js';

const MAX = 5000;

export async function completenessPage(params) {
  let products;
  try {
    products = await all('/v1/products?limit=100', MAX);
  } catch (e) {
    return h('section', h('h1', 'Completeness'), problemBox(e.problem || { detail: e.message }, 'Cannot read the products'));
  }
  const fams = Object.fromEntries((await schema('families').catch(() => [])).map((f) => [f.code, f]));
  const channels = await schema('channels').catch(() => []);
  const keys = new Set();
  for (const c of channels) for (const l of c.locales || []) keys.add(`${c.code}/${l}`);
  for (const p of products) for (const k of Object.keys(p.completeness || {})) keys.add(k);
  const at = params.get('at') || '';
  const bySku = new Map(products.map((p) => [p.sku, p]));
  // a variant without a name of its own goes by its parent's
  const nameOf = (p) => {
    const parent = p.parent && bySku.get(p.parent);
    return labelOf(p, fams[p.family]) || (parent ? labelOf(parent, fams[parent.family]) : '');
  };

  const stats = [...keys].sort().map((k) => {
    let complete = 0;
    let counted = 0;
    let sum = 0;
    const missing = {};
    for (const p of products) {
      const c = p.completeness && p.completeness[k];
      if (!c) continue;
      counted += 1;
      const r = ratio(c);
      sum += r;
      if (r >= 100) complete += 1;
      for (const m of c.missing || []) missing[m] = (missing[m] || 0) + 1;
    }
    return { k, complete, counted, avg: counted ? Math.round(sum / counted) : 0, missing };
  });

  const table = h('table.list.completeness',
    h('thead', h('tr', h('th', { scope: 'col' }, 'Channel / locale'), h('th', { scope: 'col' }, 'Complete'),
      h('th', { scope: 'col' }, 'Average'), h('th', { scope: 'col' }, 'Most often missing'))),
    h('tbody', stats.map((s) => h('tr', { dataset: { key: s.k } },
      h('th', { scope: 'row' }, h('a', { href: `#/completeness?at=${encodeURIComponent(s.k)}` }, s.k)),
      h('td', h('meter', { min: 0, max: s.counted || 1, value: s.complete, 'aria-label': `${s.k} complete` }),
        ` ${s.complete} of ${s.counted}`),
      h('td', `${s.avg}%`),
      h('td', Object.entries(s.missing).sort((a, b) => b[1] - a[1]).slice(0, 5)
        .map(([m, n]) => h('span.chip.todo', `${m} (${n})`)))))));

  let detail = null;
  if (at) {
    const todo = products.filter((p) => p.completeness && p.completeness[at] && ratio(p.completeness[at]) < 100);
    detail = h('section.detail', h('h2', `Incomplete for ${at}`),
      todo.length ? h('table.list', h('thead', h('tr', h('th', 'SKU'), h('th', 'Name'), h('th', 'Ratio'), h('th', 'Missing'))),
        h('tbody', todo.map((p) => h('tr',
          h('td', h('a', { href: `#/products/${encodeURIComponent(p.sku)}` }, p.sku)),
          h('td', nameOf(p)),
          h('td', `${ratio(p.completeness[at])}%`),
          h('td', (p.completeness[at].missing || []).join(', '))))))
        : h('p', 'Every product is complete here.'));
  }
  return h('section', h('h1', 'Completeness'), refreshNotice(),
    h('p.muted', `${products.length}${products.length >= MAX ? '+' : ''} products. A product is published to a channel only while it is enabled and complete there.`),
    stats.length ? table : h('p.muted', 'No channels yet.'), detail);
}
