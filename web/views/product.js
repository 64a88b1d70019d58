// #/products/SKU: view and edit one product (a form built from its
// family's attributes, one row per locale/channel scope), with the 422
// errors shown next to the fields they name; #/products/SKU/history: its
// history with revert; #/products/new: create one.
import { pim, query, schema, renditionUrl, ApiError, clearSchemaCache, may } from '../api.js';
import { h, field, fieldError, clearErrors, problemBox, toast, fmtTime, items, newId } from '../ui.js';
import { entries, completenessChips, labelOf, assetIdsOf, refreshNotice, readOnlyNote } from './common.js';

const SERVER_FIELDS = ['version', 'created', 'updated', 'completeness'];

export async function productPage(sku, tab, params = new URLSearchParams()) {
  const [families, attributes, channels, locales, currencies] = await Promise.all([
    schema('families').catch(() => []),
    schema('attributes').catch(() => []),
    schema('channels').catch(() => []),
    schema('locales').catch(() => []),
    schema('currencies').catch(() => []),
  ]);
  const ctx = {
    families: Object.fromEntries(families.map((f) => [f.code, f])),
    attrs: Object.fromEntries(attributes.map((a) => [a.code, a])),
    channels,
    locales: locales.map((l) => l.code),
    currencies: currencies.map((c) => c.code),
  };
  if (!sku) return newProduct(ctx);

  // a parent's variants, asked at the same time as the product itself
  const variants = pim(variantsPath(sku)).catch(() => null);
  let product;
  let etag = null;
  try {
    const r = await pim(`/v1/products/${encodeURIComponent(sku)}`, { raw: true });
    etag = r.headers.get('ETag');
    product = await r.json();
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) {
      return h('section', h('h1', sku), h('p', 'There is no product with this SKU. ', h('a', { href: '#/products' }, 'Back to the list')));
    }
    throw e;
  }
  if (product.parent) {
    // Variants inherit the parent's values: shown as placeholders.
    ctx.parent = await pim(`/v1/products/${encodeURIComponent(product.parent)}`).catch(() => null);
  }
  const fam = ctx.families[product.family];
  const title = labelOf(product, fam) || (ctx.parent ? labelOf(ctx.parent, ctx.families[ctx.parent.family]) : '');
  const base = `#/products/${encodeURIComponent(sku)}`;
  const images = assetIdsOf(product, fam);
  const parentImages = !images.length && ctx.parent ? assetIdsOf(ctx.parent, ctx.families[ctx.parent.family]) : [];
  const head = h('div.head',
    h('div.product-images', [...images, ...parentImages].slice(0, 3).map((id) => h('a', { href: `#/assets/${encodeURIComponent(id)}` },
      h('img', { src: renditionUrl(id, 'web-thumb'), alt: parentImages.length ? 'image of the parent product' : 'product image', width: 72, height: 72 })))),
    h('div.title', h('p.crumbs', h('a', { href: '#/products' }, 'Products'), ' / ', sku),
      h('h1', title ? `${title} ` : sku, title ? h('span.muted.sku', sku) : null)),
    h('div.meta', product.version ? h('span.badge', `version ${product.version}`) : null,
      product.enabled === false ? h('span.badge.off', 'disabled') : h('span.badge.on', 'enabled')));
  const tabs = h('nav.tabs', { 'aria-label': 'Product' },
    h('a', { href: base, 'aria-current': !tab ? 'page' : null }, 'Edit'),
    h('a', { href: `${base}/preview`, 'aria-current': tab === 'preview' ? 'page' : null }, 'Channel preview'),
    h('a', { href: `${base}/history`, 'aria-current': tab === 'history' ? 'page' : null }, 'History'));
  let body;
  if (tab === 'history') body = await historyView(sku, product);
  else if (tab === 'preview') body = await previewView(sku, product, ctx, params);
  else body = editor(ctx, product, etag);
  return h('section', head, refreshNotice(),
    h('div.completeness-line', h('span.muted', 'Completeness: '), completenessChips(product.completeness)),
    variantsBox(sku, await variants, ctx, params.get('at')), tabs, body);
}

// The channel/locale pairs completeness is counted for: "channel/locale".
function combosOf(ctx) {
  return ctx.channels.flatMap((c) => (c.locales || []).map((l) => `${c.code}/${l}`));
}

const variantsPath = (sku, cursor) => `/v1/products${query({ parent: sku, limit: 100, cursor })}`;

// A parent's variants (first, the answer for its first page): each one's
// SKU with a link, its values of the family's variant axes and its
// completeness at one channel/locale (at, else the first); more pages on
// demand. Nothing for a product without variants.
function variantsBox(sku, first, ctx, at) {
  // (an older pimd ignores ?parent= and lists every product)
  const ofThis = (j) => items(j).filter((v) => v.parent === sku);
  const list = ofThis(first);
  if (!list.length) return null;
  let cursor = first.next_cursor;
  const axes = [...new Set(list.flatMap((v) => (ctx.families[v.family] || {}).variant_axes || []))];
  const combos = combosOf(ctx);
  const pick = h('select', { name: 'variants-at' }, combos.map((c) => h('option', { value: c, selected: c === at }, c)));
  const tbody = h('tbody');
  const count = h('p.muted', { role: 'status' });
  const more = h('button', { type: 'button' }, 'More variants');
  const draw = () => {
    const chip = (v) => completenessChips(v.completeness && v.completeness[pick.value] ? { [pick.value]: v.completeness[pick.value] } : null);
    tbody.replaceChildren(...list.map((v) => h('tr', { dataset: { sku: v.sku } },
      h('td', h('a', { href: `#/products/${encodeURIComponent(v.sku)}` }, v.sku)),
      axes.map((a) => h('td', { dataset: { axis: a } }, changeText(entries(v, a)) || h('span.muted', '—'))),
      h('td.nowrap', chip(v)))));
    count.textContent = `${list.length} variant${list.length === 1 ? '' : 's'}${cursor ? ' so far' : ''}`;
    more.hidden = !cursor;
  };
  pick.addEventListener('change', draw);
  more.addEventListener('click', async () => {
    more.disabled = true;
    try {
      const j = await pim(variantsPath(sku, cursor));
      list.push(...ofThis(j));
      cursor = j && j.next_cursor;
      draw();
    } catch (e) {
      count.replaceChildren(problemBox(e.problem || { detail: e.message }, 'Cannot list more variants'));
    }
    more.disabled = false;
  });
  draw();
  return h('section.variants', h('h2', 'Variants'), count,
    combos.length > 1 ? field('Completeness for', pick) : null,
    h('div.table-wrap', h('table.list.variants',
      h('thead', h('tr', h('th', { scope: 'col' }, 'SKU'),
        axes.map((a) => h('th', { scope: 'col' }, attrLabel(ctx.attrs[a] || { code: a }))),
        h('th', { scope: 'col' }, 'Completeness'))),
      tbody)), more);
}

function newProduct(ctx) {
  if (!may('products')) {
    return h('section', h('p.crumbs', h('a', { href: '#/products' }, 'Products'), ' / new'),
      h('h1', 'New product'), readOnlyNote('products'));
  }
  const sku = h('input', { name: 'sku', required: true, autocomplete: 'off' });
  const family = h('select', { name: 'family', required: true },
    h('option', { value: '' }, 'Choose a family'),
    Object.keys(ctx.families).sort().map((c) => h('option', { value: c }, c)));
  const slot = h('div');
  const next = h('button.primary', { type: 'submit' }, 'Continue');
  // The SKU is checked here, while its field is shown: the product's
  // schema refuses spaces and / ? # %, and a PUT over an existing SKU
  // would replace that product.
  const checkSku = async (code) => {
    if (!/^[^\s/?#%]+$/.test(code)) return 'A SKU cannot hold spaces or any of / ? # %.';
    try {
      await pim(`/v1/products/${encodeURIComponent(code)}`);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return null;
      return e.message;
    }
    return `There already is a product ${code}.`;
  };
  const form = h('form.stack', {
    on: {
      submit: async (ev) => {
        ev.preventDefault();
        clearErrors(form);
        const code = sku.value.trim();
        if (!code || !family.value) return;
        next.disabled = true;
        const bad = await checkSku(code);
        next.disabled = false;
        if (bad) {
          fieldError(sku, bad);
          sku.focus();
          return;
        }
        const p = { sku: code, family: family.value, enabled: true, categories: [], values: {} };
        slot.replaceChildren(editor(ctx, p, null, true));
        form.hidden = true;
      },
    },
  }, field('SKU', sku), field('Family', family), next);
  return h('section', h('p.crumbs', h('a', { href: '#/products' }, 'Products'), ' / new'),
    h('h1', 'New product'), form, slot);
}

// The scopes a value of attribute a can have: [{locale, channel}].
function scopesOf(a, ctx, existing) {
  const locs = a.localizable ? [...ctx.locales] : [null];
  const chans = a.scopable ? ctx.channels.map((c) => c.code) : [null];
  const out = [];
  for (const c of chans) for (const l of locs) {
    if (c && l) {
      const ch = ctx.channels.find((x) => x.code === c);
      if (ch && Array.isArray(ch.locales) && !ch.locales.includes(l)) continue;
    }
    out.push({ locale: l, channel: c });
  }
  for (const e of existing) {
    const l = e.locale ?? null;
    const c = e.channel ?? null;
    if (!out.some((s) => s.locale === l && s.channel === c)) out.push({ locale: l, channel: c });
  }
  return out;
}

function scopeLabel(s) {
  const parts = [s.channel, s.locale].filter(Boolean);
  return parts.length ? parts.join(' · ') : 'all';
}

function attrLabel(a) {
  const l = a.labels || {};
  return l.en_US || l[Object.keys(l)[0]] || a.code;
}

// Allowed options as [{code, label}]: plain codes or {code, labels}.
function optionsOf(a) {
  const raw = a.options || (a.validation && (a.validation.options || a.validation.allowed_options)) || [];
  return (Array.isArray(raw) ? raw : Object.keys(raw)).map((o) => {
    if (typeof o === 'string') return { code: o, label: o };
    const l = o.labels || {};
    return { code: o.code, label: l.en_US || l[Object.keys(l)[0]] || o.code };
  }).filter((o) => o.code);
}

// One value row: controls for one scope of one attribute. read() returns
// {data, subs:[[relative pointer, control]]} or undefined when left empty.
function valueRow(a, scope, current, ctx) {
  const type = a.type || 'json';
  const inherited = ctx.parent ? entries(ctx.parent, a.code)
    .find((e) => (e.locale ?? null) === scope.locale && (e.channel ?? null) === scope.channel) : null;
  const hint = inherited && typeof inherited.data !== 'object' ? `inherited: ${inherited.data}` : '';
  const label = `${attrLabel(a)} (${scopeLabel(scope)})`;
  const subs = [];
  let control;
  let read;
  const text = (v, attrs = {}) => h('input', { type: 'text', value: v ?? '', 'aria-label': label, placeholder: hint || null, ...attrs });

  if (type === 'textarea') {
    control = h('textarea', { rows: 2, 'aria-label': label, placeholder: hint || null }, current ?? '');
    read = () => (control.value === '' ? undefined : { data: control.value });
  } else if (type === 'boolean') {
    control = h('select', { 'aria-label': label },
      h('option', { value: '' }, '—'),
      h('option', { value: 'true', selected: current === true }, 'Yes'),
      h('option', { value: 'false', selected: current === false }, 'No'));
    read = () => (control.value === '' ? undefined : { data: control.value === 'true' });
  } else if (type === 'number') {
    control = text(current, { inputmode: 'decimal' });
    // pimd takes a decimal string (or a JSON integer, as some feeds store
    // them): what was typed goes as a string, a stored number left as it
    // was goes back unchanged
    read = () => {
      const v = control.value.trim();
      if (v === '') return undefined;
      return { data: typeof current === 'number' && String(current) === v ? current : v };
    };
  } else if (type === 'date') {
    control = text(current, { type: 'date' });
    read = () => (control.value === '' ? undefined : { data: control.value });
  } else if (type === 'price') {
    const ch = ctx.channels.find((c) => c.code === scope.channel);
    const curs = [...new Set([...((ch && ch.currencies) || (ctx.currencies.length ? ctx.currencies : ['EUR'])),
      ...(Array.isArray(current) ? current.map((p) => p.currency) : [])])];
    const inputs = curs.map((cur) => {
      const old = Array.isArray(current) ? current.find((p) => p.currency === cur) : null;
      return [cur, text(old ? old.amount : '', { inputmode: 'decimal', 'aria-label': `${label} ${cur}`, placeholder: '0.00' })];
    });
    control = h('div.price', inputs.map(([cur, inp]) => h('span.amount', inp, h('span.unit', cur))));
    read = () => {
      const data = [];
      for (const [cur, inp] of inputs) {
        if (inp.value.trim() === '') continue;
        subs.push([`/data/${data.length}`, inp]);
        data.push({ amount: inp.value.trim(), currency: cur });
      }
      return data.length ? { data } : undefined;
    };
  } else if (type === 'metric') {
    const amount = text(current && current.amount, { inputmode: 'decimal', 'aria-label': `${label} amount` });
    const units = Array.isArray(a.units) ? a.units : [];
    const unit = units.length
      ? h('select', { 'aria-label': `${label} unit` }, [...new Set([...units, ...(current && current.unit ? [current.unit] : [])])]
        .map((u) => h('option', { value: u, selected: current && current.unit === u }, u)))
      : text(current && current.unit, { 'aria-label': `${label} unit`, size: 8 });
    control = h('div.metric', amount, unit);
    read = () => {
      if (amount.value.trim() === '') return undefined;
      subs.push(['/data/amount', amount], ['/data/unit', unit]);
      return { data: { amount: amount.value.trim(), unit: unit.value.trim() } };
    };
  } else if (type === 'multi_select' && optionsOf(a).length) {
    const cur = Array.isArray(current) ? current : [];
    const opts = optionsOf(a);
    for (const c of cur) if (!opts.some((o) => o.code === c)) opts.push({ code: c, label: c });
    const boxes = opts.map((o) => [o.code, h('input', { type: 'checkbox', checked: cur.includes(o.code), 'aria-label': `${label} ${o.label}` })]);
    control = h('div.options', { role: 'group', 'aria-label': label },
      boxes.map(([code, box], i) => h('label.option', box, ` ${opts[i].label}`)));
    read = () => {
      const v = boxes.filter(([, b]) => b.checked).map(([c]) => c);
      return v.length ? { data: v } : undefined;
    };
  } else if (type === 'multi_select') {
    control = text(Array.isArray(current) ? current.join(', ') : '', { placeholder: 'option, option' });
    read = () => {
      const v = control.value.split(',').map((x) => x.trim()).filter(Boolean);
      return v.length ? { data: v } : undefined;
    };
  } else if (type === 'simple_select' && optionsOf(a).length) {
    const opts = optionsOf(a);
    if (current && !opts.some((o) => o.code === current)) opts.push({ code: current, label: current });
    control = h('select', { 'aria-label': label }, h('option', { value: '' }, hint || '—'),
      opts.map((o) => h('option', { value: o.code, selected: o.code === current }, o.label === o.code ? o.code : `${o.label} (${o.code})`)));
    read = () => (control.value === '' ? undefined : { data: control.value });
  } else if (type === 'asset' || type === 'asset_collection') {
    const ids = Array.isArray(current) ? current : current ? [current] : [];
    control = h('textarea.ids', { rows: Math.max(1, ids.length), 'aria-label': label, placeholder: 'sha256:…' }, ids.join('\n'));
    const thumbs = h('div.thumbs', ids.map((id) => h('a', { href: `#/assets/${encodeURIComponent(id)}` },
      h('img', { src: renditionUrl(id, 'web-thumb'), alt: `asset ${id.slice(0, 15)}…`, width: 64, height: 64, loading: 'lazy' }))));
    control = h('div.assets-value', control, thumbs);
    const ta = control.querySelector('textarea');
    read = () => {
      const v = ta.value.split(/[\s,]+/).map((x) => x.trim()).filter(Boolean);
      if (!v.length) return undefined;
      return { data: type === 'asset' ? v[0] : v };
    };
  } else if (['text', 'identifier', 'simple_select', 'product_reference'].includes(type)) {
    const opts = optionsOf(a);
    const listId = opts.length ? newId('opts') : null;
    control = text(current, listId ? { list: listId } : {});
    if (listId) control = h('span.with-list', control, h('datalist', { id: listId }, opts.map((o) => h('option', { value: o.code }))));
    const inp = control.tagName === 'INPUT' ? control : control.querySelector('input');
    read = () => (inp.value === '' ? undefined : { data: inp.value });
  } else {
    control = h('textarea.json', { rows: 2, 'aria-label': label }, current === undefined ? '' : JSON.stringify(current));
    read = () => {
      if (control.value.trim() === '') return undefined;
      try {
        return { data: JSON.parse(control.value) };
      } catch {
        throw Object.assign(new Error('not valid JSON'), { control });
      }
    };
  }
  const row = h('div.value-row', { dataset: { locale: scope.locale || '', channel: scope.channel || '' } },
    h('span.scope', scopeLabel(scope)), control);
  const focusable = () => row.querySelector('input, textarea, select');
  return {
    el: row,
    focusable,
    read: () => {
      subs.length = 0;
      const r = read();
      if (r === undefined) return undefined;
      return { entry: { locale: scope.locale, channel: scope.channel, data: r.data }, subs: [...subs] };
    },
  };
}

// The edit form of product p. etag (may be null) is sent as If-Match; a
// new product's PUT sends If-None-Match: *. For a role that may not change
// products, the same form with every control disabled and no actions.
function editor(ctx, p, etag, isNew = false) {
  const readOnly = !may('products');
  const fam = ctx.families[p.family];
  const famAttrs = fam && Array.isArray(fam.attributes) ? fam.attributes : [];
  const codes = [...new Set([...famAttrs, ...Object.keys(p.values || {})])]
    .filter((c) => c !== 'sku' && (ctx.attrs[c] || {}).type !== 'identifier');
  const required = {};
  for (const [ch, list] of Object.entries((fam && fam.requirements) || {})) {
    for (const c of list) (required[c] = required[c] || []).push(ch);
  }
  const missing = {};
  for (const [k, v] of Object.entries(p.completeness || {})) {
    for (const c of (v && v.missing) || []) (missing[c] = missing[c] || []).push(k);
  }

  const family = h('select', { name: 'family' }, Object.keys(ctx.families).sort().concat(ctx.families[p.family] ? [] : [p.family])
    .map((c) => h('option', { value: c, selected: c === p.family }, c)));
  const parent = h('input', { name: 'parent', value: p.parent || '' });
  const categories = h('input', { name: 'categories', value: (p.categories || []).join(', '), placeholder: 'category, category' });
  const enabled = h('input', { type: 'checkbox', name: 'enabled', checked: p.enabled !== false });
  const general = h('fieldset.general', { disabled: readOnly }, h('legend', 'General'),
    h('div.grid',
      field('Family', family), field('Parent (variants inherit its values)', parent),
      field('Categories', categories, 'Comma-separated category codes'),
      h('div.field.check', enabled, h('label', { for: enabled.id || (enabled.id = newId()) }, 'Enabled'))));

  // A variant sets only its family's variant attributes: the others show
  // the parent's values, locked, with the way to the parent.
  const own = p.parent && fam && Array.isArray(fam.variant_attributes) ? fam.variant_attributes : null;
  const rows = [];
  const fieldsets = {};
  const attrBoxes = codes.map((code) => {
    const a = ctx.attrs[code] || { code, type: 'json' };
    const stored = entries(p, code);
    const locked = Boolean(own && !own.includes(code) && !stored.length);
    const existing = locked ? entries(ctx.parent, code) : stored;
    const rs = scopesOf(a, ctx, existing).map((s) => {
      const at = existing.findIndex((e) => (e.locale ?? null) === s.locale && (e.channel ?? null) === s.channel);
      const r = valueRow(a, s, at >= 0 ? existing[at].data : undefined, ctx);
      r.order = at >= 0 ? at : Infinity;
      return r;
    });
    rows.push([code, rs, locked]);
    const req = required[code];
    const miss = missing[code];
    const box = h('fieldset.attr', { dataset: { attr: code }, disabled: locked || readOnly, class: locked ? 'inherited' : null },
      h('legend', attrLabel(a), ' ', h('code.muted', code), ' ', h('span.type', a.type || 'json'),
        req ? h('span.req', { title: `required for ${req.join(', ')}` }, ` required: ${req.join(', ')}`) : null),
      locked ? h('p.inherited-from', 'Inherited from ', h('a', { href: `#/products/${encodeURIComponent(p.parent)}` }, p.parent),
        ': a variant of this family cannot set it; change it on the parent.') : null,
      miss ? h('p.missing', `Missing for ${miss.join(', ')}`) : null,
      rs.map((r) => r.el));
    fieldsets[code] = box;
    return box;
  });

  // Show one locale or channel at a time; hidden rows are still saved.
  const usedLocales = [...new Set(rows.flatMap(([, rs]) => rs.map((r) => r.el.dataset.locale)).filter(Boolean))].sort();
  const usedChannels = [...new Set(rows.flatMap(([, rs]) => rs.map((r) => r.el.dataset.channel)).filter(Boolean))].sort();
  const showLocale = h('select', { name: 'show-locale' }, h('option', { value: '' }, 'All locales'), usedLocales.map((l) => h('option', { value: l }, l)));
  const showChannel = h('select', { name: 'show-channel' }, h('option', { value: '' }, 'All channels'), usedChannels.map((c) => h('option', { value: c }, c)));
  const applyScope = () => {
    for (const [, rs] of rows) {
      for (const r of rs) {
        const { locale, channel } = r.el.dataset;
        r.el.hidden = Boolean((showLocale.value && locale && locale !== showLocale.value)
          || (showChannel.value && channel && channel !== showChannel.value));
      }
    }
  };
  showLocale.addEventListener('change', applyScope);
  showChannel.addEventListener('change', applyScope);
  const scopeBar = usedLocales.length > 1 || usedChannels.length > 1
    ? h('div.scope-bar', h('span.muted', 'Show'), field('Locale', showLocale), field('Channel', showChannel)) : null;

  const summary = h('div.summary');
  const save = h('button.primary', { type: 'submit' }, isNew ? 'Create product' : 'Save');
  const jsonArea = h('textarea.json-doc', { rows: 16, 'aria-label': 'Product as JSON', spellcheck: 'false' });
  const docOf = () => {
    const d = { ...p };
    for (const k of SERVER_FIELDS) delete d[k];
    return d;
  };
  jsonArea.value = JSON.stringify(docOf(), null, 2);

  // Builds the document from the form; map: pointer → control, for errors.
  function collect() {
    const map = [['/family', family], ['/parent', parent], ['/categories', categories], ['/enabled', enabled]];
    const values = {};
    for (const [code, rs, locked] of rows) {
      if (locked) continue;
      const arr = [];
      map.push([`/values/${code}`, fieldsets[code].querySelector('input, textarea, select') || fieldsets[code]]);
      // stored entries keep their order (it is part of the document), new ones follow
      const filled = rs.map((r) => [r, r.read()]).filter(([, got]) => got)
        .sort((x, y) => x[0].order - y[0].order);
      for (const [r, got] of filled) {
        const ptr = `/values/${code}/${arr.length}`;
        map.push([ptr, r.focusable()]);
        for (const [rel, el] of got.subs) map.push([ptr + rel, el]);
        arr.push(got.entry);
      }
      if (arr.length) values[code] = arr;
    }
    const doc = { ...docOf(), family: family.value, categories: categories.value.split(',').map((x) => x.trim()).filter(Boolean), enabled: enabled.checked, values };
    if (parent.value.trim()) doc.parent = parent.value.trim();
    else delete doc.parent;
    return { doc, map };
  }

  async function put(doc, map) {
    clearErrors(form);
    summary.replaceChildren();
    save.disabled = true;
    try {
      const headers = {};
      if (isNew) headers['If-None-Match'] = '*'; // a create, never over a product made meanwhile
      else if (etag) headers['If-Match'] = etag;
      await pim(`/v1/products/${encodeURIComponent(p.sku)}`, { method: 'PUT', json: doc, headers });
      clearSchemaCache();
      toast(isNew ? `Created ${p.sku}` : `Saved ${p.sku}`);
      if (isNew) location.hash = `#/products/${encodeURIComponent(p.sku)}`;
      else window.dispatchEvent(new HashChangeEvent('hashchange'));
    } catch (e) {
      save.disabled = false;
      if (!(e instanceof ApiError)) throw e;
      if (e.status === 412 && isNew) {
        summary.replaceChildren(problemBox(e.problem, `Someone else made a product ${p.sku} meanwhile; nothing was saved.`),
          h('p', h('a', { href: `#/products/${encodeURIComponent(p.sku)}` }, `Open ${p.sku}`)));
        return;
      }
      if (e.status === 412) {
        const reload = h('button', { type: 'button', on: { click: () => window.dispatchEvent(new HashChangeEvent('hashchange')) } },
          'Show their version');
        summary.replaceChildren(problemBox(e.problem, 'Someone else changed this product since you opened it; nothing was saved.'),
          h('p', reload, h('span.muted', ' (your changes on this page are dropped: make them again there)')));
        reload.focus();
        return;
      }
      showErrors(e.problem, map);
    }
  }

  function showErrors(problem, map) {
    const errs = problem.errors || [];
    let placed = 0;
    for (const err of errs) {
      let best = null;
      for (const [ptr, el] of map) {
        if (err.path === ptr || (err.path || '').startsWith(`${ptr}/`)) {
          if (!best || ptr.length > best[0].length) best = [ptr, el];
        }
      }
      if (best && best[1]) {
        fieldError(best[1], err.message || err.code);
        placed += 1;
      }
    }
    const n = errs.length;
    summary.replaceChildren(problemBox(problem, n
      ? `${n} problem${n === 1 ? '' : 's'}; nothing was saved${placed ? ' (marked next to the fields)' : ''}`
      : 'Nothing was saved'));
    const first = form.querySelector('[aria-invalid="true"]');
    if (first) first.focus();
    else summary.scrollIntoView({ block: 'nearest' });
  }

  const form = h('form.product', {
    novalidate: true,
    on: {
      submit: (ev) => {
        ev.preventDefault();
        let c;
        try {
          c = collect();
        } catch (err) {
          if (err.control) fieldError(err.control, err.message);
          return;
        }
        put(c.doc, c.map);
      },
    },
  }, readOnly ? readOnlyNote('products') : summary, general, scopeBar,
  h('div.attrs', attrBoxes.length ? attrBoxes : h('p.muted', 'This family has no attributes.')),
  readOnly ? null : h('div.actions', save, isNew ? null : h('button.danger', {
    type: 'button',
    on: {
      click: async () => {
        if (!window.confirm(`Delete ${p.sku}?`)) return;
        try {
          await pim(`/v1/products/${encodeURIComponent(p.sku)}`, { method: 'DELETE' });
          toast(`Deleted ${p.sku}`);
          location.hash = '#/products';
        } catch (e) {
          summary.replaceChildren(problemBox(e.problem || { detail: e.message }, 'Cannot delete'));
        }
      },
    },
  }, 'Delete')));

  if (readOnly) {
    form.append(h('details.raw', h('summary', 'As JSON'), h('pre.json', jsonArea.value)));
    return form;
  }
  const jsonSave = h('button', { type: 'button' }, 'Save JSON');
  jsonSave.addEventListener('click', () => {
    let doc;
    try {
      doc = JSON.parse(jsonArea.value);
    } catch (err) {
      summary.replaceChildren(problemBox({ detail: err.message }, 'The JSON does not parse'));
      return;
    }
    put(doc, [['', jsonArea]]);
  });
  const raw = h('details.raw', h('summary', 'Edit as JSON'), jsonArea, h('div.actions', jsonSave));
  form.append(raw);
  return form;
}

async function historyView(sku, product) {
  let list;
  try {
    list = items(await pim(`/v1/products/${encodeURIComponent(sku)}/history`));
  } catch (e) {
    return problemBox(e.problem || { detail: e.message }, 'Cannot load the history');
  }
  list.sort((a, b) => (b.version || 0) - (a.version || 0));
  const msg = h('div');
  const fmt = (v) => changeText(v) || '—';
  return h('div.history', msg, list.length ? h('ol.timeline', list.map((e) => h('li', { dataset: { version: e.version } },
    h('div.entry-head', h('strong', `Version ${e.version}`), ' ', h('span.muted', `${fmtTime(e.at)}${e.by ? ` by ${e.by}` : ''}`),
      e.version === product.version ? h('span.badge', 'current') : may('products') ? h('button.small', {
        type: 'button',
        on: {
          click: async (ev) => {
            ev.target.disabled = true;
            try {
              await pim(`/v1/products/${encodeURIComponent(sku)}/revert`, { method: 'POST', json: { version: e.version } });
              toast(`Reverted ${sku} to version ${e.version}`);
              location.hash = `#/products/${encodeURIComponent(sku)}`;
            } catch (err) {
              ev.target.disabled = false;
              msg.replaceChildren(problemBox(err.problem || { detail: err.message }, 'Cannot revert'));
            }
          },
        },
      }, `Revert to version ${e.version}`) : null),
    (e.changes || []).length ? h('table.changes', h('thead', h('tr', h('th', 'Field'), h('th', 'Before'), h('th', 'After'))),
      h('tbody', e.changes.map((c) => h('tr', h('td', h('code', c.path)), h('td.old', fmt(c.old)), h('td.new', fmt(c.new)))))) : null)))
    : h('p.muted', 'No history yet.'));
}

// A changed value as people read it: one line per scope ("en_US: Blue
// mug"), amounts with their currency or unit, lists joined.
function changeText(v) {
  if (Array.isArray(v) && v.length && v.every((e) => e && typeof e === 'object' && 'data' in e)) {
    return v.map((e) => (e.locale || e.channel ? `${scopeLabel(e)}: ` : '') + dataText(e.data)).join('\n');
  }
  return dataText(v);
}

function dataText(d) {
  if (d === undefined || d === null) return '';
  if (typeof d !== 'object') return String(d);
  if (Array.isArray(d)) return d.map(dataText).join(', ');
  if ('amount' in d) return `${d.amount} ${d.currency || d.unit || ''}`.trim();
  return JSON.stringify(d);
}

// What a frontend gets: the channel projection for one channel and locale,
// or why the product is not published there.
async function previewView(sku, product, ctx, params) {
  const combos = combosOf(ctx);
  if (!combos.length) return h('p.muted', 'There are no channels yet.');
  const at = combos.includes(params.get('at')) ? params.get('at') : combos[0];
  const [channel, locale] = at.split('/');
  const pick = h('select', { name: 'at' }, combos.map((c) => h('option', { value: c, selected: c === at }, c)));
  pick.addEventListener('change', () => {
    location.hash = `#/products/${encodeURIComponent(sku)}/preview?at=${encodeURIComponent(pick.value)}`;
  });
  let out;
  try {
    const j = await pim(`/v1/channels/${encodeURIComponent(channel)}/products/${encodeURIComponent(sku)}?locale=${encodeURIComponent(locale)}`);
    const fam = ctx.families[product.family] || {};
    const titleKey = j.name !== undefined ? 'name' : fam.label_attribute;
    const money = (v) => v && typeof v === 'object' && !Array.isArray(v) && 'amount' in v && 'currency' in v;
    const shown = (v) => (money(v) ? `${v.amount} ${v.currency}`
      : Array.isArray(v) && v.every((x) => typeof x !== 'object') ? v.join(', ')
        : v !== null && typeof v === 'object' ? null : v);
    const priceKey = j.price !== undefined ? 'price' : Object.keys(j).find((k) => money(j[k]));
    const skip = new Set(['sku', 'channel', 'locale', 'version', titleKey, priceKey, 'images', 'variants', 'associations', 'categories', 'parent']);
    const facts = Object.entries(j).filter(([k, v]) => !skip.has(k) && shown(v) !== null && shown(v) !== undefined);
    out = h('article.preview-card', { dataset: { published: 'true' } },
      h('div.preview-images', (j.images || []).slice(0, 4).map((im) => h('img', { src: im.url, alt: im.alt || '', width: im.width || null, height: im.height || null }))),
      h('div',
        h('h2', (titleKey && j[titleKey]) || sku), priceKey && money(j[priceKey]) ? h('p.price', shown(j[priceKey])) : null,
        h('dl.facts', facts.map(([k, v]) => [h('dt', k), h('dd', String(shown(v)))])),
        (j.categories || []).length ? h('p.muted', `Categories: ${j.categories.join(', ')}`) : null,
        (j.variants || []).length ? h('p.muted', `Variants: ${j.variants.map((v) => (typeof v === 'string' ? v : v.sku)).join(', ')}`) : null,
        h('details', h('summary', 'JSON'), h('pre.json', JSON.stringify(j, null, 2)))));
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 404) throw e;
    const c = product.completeness && product.completeness[at];
    const why = product.enabled === false ? 'it is disabled'
      : c && c.missing && c.missing.length ? `it misses ${c.missing.join(', ')}` : 'it is not in this channel';
    out = h('p.problem', { dataset: { published: 'false' } }, `Not published on ${at}: ${why}.`);
  }
  return h('div.preview-tab', field('Channel / locale', pick), out);
}
