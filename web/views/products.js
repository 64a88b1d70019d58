// #/products: search and filter the catalog, page through it with cursors.
import { pim, query, schema, renditionUrl, may } from '../api.js';
import { h, field, problemBox, fmtTime, items } from '../ui.js';
import { labelOf, firstAssetId, completenessSummary, refreshNotice } from './common.js';

const FILTERS = ['q', 'family', 'category', 'enabled', 'complete'];

export async function productList(params) {
  const [families, categories, channels] = await Promise.all([
    schema('families').catch(() => []),
    schema('categories').catch(() => []),
    schema('channels').catch(() => []),
  ]);
  const f = Object.fromEntries(FILTERS.map((k) => [k, params.get(k) || '']));

  const q = h('input', { type: 'search', name: 'q', value: f.q, placeholder: 'SKU, name, any text' });
  const family = select('family', f.family, [['', 'Any family'], ...families.map((x) => [x.code, x.code])]);
  const category = select('category', f.category, [['', 'Any category'], ...categories.map((x) => [x.code, x.code])]);
  const enabled = select('enabled', f.enabled, [['', 'Enabled or not'], ['true', 'Enabled'], ['false', 'Disabled']]);
  const combos = [];
  for (const c of channels) for (const l of c.locales || []) combos.push(`${c.code}/${l}`);
  const complete = select('complete', f.complete, [['', 'Any completeness'], ...combos.map((c) => [c, `Complete for ${c}`])]);

  const form = h('form.filters', {
    role: 'search',
    on: {
      submit: (ev) => {
        ev.preventDefault();
        const next = { q: q.value.trim(), family: family.value, category: category.value, enabled: enabled.value, complete: complete.value };
        location.hash = `#/products${query(next)}`;
      },
    },
  }, field('Search', q), field('Family', family), field('Category', category), field('Status', enabled),
  field('Completeness', complete), h('button.primary', { type: 'submit' }, 'Search'));

  const tbody = h('tbody');
  const status = h('p.muted', { role: 'status' });
  const more = h('button', { type: 'button', hidden: true }, 'Load more');
  const table = h('table.list.products',
    h('thead', h('tr', h('th', { scope: 'col' }, h('span.sr-only', 'Image')), h('th', { scope: 'col' }, 'SKU'),
      h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col' }, 'Family'), h('th', { scope: 'col' }, 'Status'),
      h('th', { scope: 'col' }, 'Completeness'), h('th', { scope: 'col' }, 'Updated'))),
    tbody);
  const famByCode = Object.fromEntries(families.map((x) => [x.code, x]));
  let cursor = '';
  let shown = 0;
  const parents = new Map(); // parent sku → promise of its document

  // Variants usually show their parent's name and images: fetched once per parent.
  function fromParent(p, tr) {
    if (!parents.has(p.parent)) {
      parents.set(p.parent, pim(`/v1/products/${encodeURIComponent(p.parent)}`).catch(() => null));
    }
    parents.get(p.parent).then((par) => {
      if (!par) return;
      const fam = famByCode[par.family];
      const id = firstAssetId(par, fam);
      const thumb = tr.querySelector('td.thumb');
      if (id && !thumb.querySelector('img')) {
        thumb.append(h('img', { src: renditionUrl(id, 'web-thumb'), alt: '', loading: 'lazy', width: 48, height: 48 }));
      }
      const name = tr.querySelector('td.name');
      if (name.dataset.inherited && labelOf(par, fam)) name.prepend(`${labelOf(par, fam)} `);
    });
  }

  async function load() {
    more.disabled = true;
    try {
      const j = await pim(`/v1/products${query({ ...f, limit: 50, cursor })}`);
      for (const p of items(j)) {
        const tr = row(p, famByCode[p.family]);
        if (p.parent) fromParent(p, tr);
        tbody.append(tr);
      }
      shown += items(j).length;
      cursor = j && j.next_cursor;
      more.hidden = !cursor;
      status.textContent = shown ? `${shown} product${shown === 1 ? '' : 's'}${cursor ? ' so far' : ''}` : 'No products match.';
    } catch (e) {
      status.replaceChildren(problemBox(e.problem || { detail: e.message }, 'Cannot list products'));
    }
    more.disabled = false;
  }
  more.addEventListener('click', load);
  await load();

  return h('section',
    h('div.head', h('h1', 'Products'), may('products') ? h('a.button.primary', { href: '#/products/new' }, 'New product') : null),
    refreshNotice(), form, status, h('div.table-wrap', table), more);
}

function select(name, value, options) {
  return h('select', { name }, options.map(([v, label]) => h('option', { value: v, selected: v === value }, label)));
}

function row(p, fam) {
  const href = `#/products/${encodeURIComponent(p.sku)}`;
  const img = firstAssetId(p, fam);
  return h('tr', { dataset: { sku: p.sku } },
    h('td.thumb', img ? h('img', { src: renditionUrl(img, 'web-thumb'), alt: '', loading: 'lazy', width: 48, height: 48 }) : null),
    h('td', h('a', { href }, p.sku)),
    labelOf(p, fam) ? h('td.name', labelOf(p, fam))
      : p.parent ? h('td.name', { dataset: { inherited: '1' } }, h('span.muted', 'variant of ', h('a', { href: `#/products/${encodeURIComponent(p.parent)}` }, p.parent)))
        : h('td.name', h('span.muted', '—')),
    h('td', p.family || ''),
    h('td', p.enabled === false ? h('span.badge.off', 'disabled') : h('span.badge.on', 'enabled')),
    h('td.nowrap', completenessSummary(p.completeness)),
    h('td.nowrap', fmtTime(p.updated)));
}
