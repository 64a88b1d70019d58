// #/assets/ID: one asset: its renditions, and the fields designers edit —
// title, alt text per locale, tags, rights, focal point, linked SKUs.
import { dam, pim, damUrl, schema, renditionUrl, presets, ApiError, may } from '../api.js';
import { h, field, fieldError, clearErrors, problemBox, toast, fmtBytes, fmtTime } from '../ui.js';
import { readOnlyNote } from './common.js';

export async function assetPage(id) {
  let meta;
  try {
    meta = await dam(`/v1/assets/${encodeURIComponent(id)}/meta`);
  } catch (e) {
    if (e instanceof ApiError && (e.status === 404 || e.status === 410)) {
      return h('section', h('h1', 'Asset not found'), h('p', h('code', id), ' is not in the asset store. ', h('a', { href: '#/assets' }, 'Back to assets')));
    }
    if (e instanceof ApiError && e.status === 0) {
      return h('section', h('p.crumbs', h('a', { href: '#/assets' }, 'Assets'), ' / ', h('code', id)), h('h1', 'Asset'),
        problemBox(e.problem, `The asset store at ${damUrl()} is not reachable`));
    }
    throw e;
  }
  if (meta.deleted) return deletedPage(id, meta);
  const locales = (await schema('locales').catch(() => [])).map((l) => l.code);
  for (const l of Object.keys(meta.alt || {})) if (!locales.includes(l)) locales.push(l);
  if (!locales.length) locales.push('en_US');
  const name = (meta.filenames && meta.filenames[0]) || id;
  const isImage = (meta.mime || '').startsWith('image/') || meta.width || meta.pages;
  // a role that may not change assets sees the same fields, disabled
  const readOnly = !may('assets');

  // Focal point: click the preview to set it; the marker shows it.
  let focal = meta.focal_point && typeof meta.focal_point.x === 'number' ? { ...meta.focal_point } : null;
  const marker = h('span.focal', { hidden: !focal, 'aria-hidden': 'true' });
  const focalText = h('span.muted');
  const placeMarker = () => {
    marker.hidden = !focal;
    if (focal) {
      marker.style.left = `${focal.x * 100}%`;
      marker.style.top = `${focal.y * 100}%`;
    }
    if (readOnly) focalText.textContent = focal ? `Focal point ${focal.x.toFixed(2)}, ${focal.y.toFixed(2)}` : 'No focal point';
    else focalText.textContent = focal ? `Focal point ${focal.x.toFixed(2)}, ${focal.y.toFixed(2)} (saved with the form)` : 'No focal point: click the image (or focus it and use the arrow keys) to set one';
  };
  const preview = isImage
    ? h('div.preview', readOnly ? {} : {
      on: {
        click: (ev) => {
          const img = ev.currentTarget.querySelector('img');
          const r = img.getBoundingClientRect();
          focal = {
            x: Math.round(Math.min(1, Math.max(0, (ev.clientX - r.left) / r.width)) * 1000) / 1000,
            y: Math.round(Math.min(1, Math.max(0, (ev.clientY - r.top) / r.height)) * 1000) / 1000,
          };
          placeMarker();
        },
        // arrow keys move the focal point in 5% steps, Delete clears it
        keydown: (ev) => {
          const step = { ArrowLeft: [-0.05, 0], ArrowRight: [0.05, 0], ArrowUp: [0, -0.05], ArrowDown: [0, 0.05] }[ev.key];
          if (ev.key === 'Delete' || ev.key === 'Backspace') focal = null;
          else if (step) {
            const f = focal || { x: 0.5, y: 0.5 };
            const clamp = (v) => Math.round(Math.min(1, Math.max(0, v)) * 1000) / 1000;
            focal = { x: clamp(f.x + step[0]), y: clamp(f.y + step[1]) };
          } else return;
          ev.preventDefault();
          placeMarker();
        },
      },
      tabindex: 0,
      role: 'group',
      'aria-label': 'Focal point: click the image, or use the arrow keys; Delete clears it',
    }, h('img', { src: renditionUrl(id, 'web-large'), alt: (meta.alt && meta.alt[locales[0]]) || name }), marker)
    : h('div.preview.file', h('a', { href: `${damUrl()}/v1/assets/${encodeURIComponent(id)}` }, `Download ${name}`));
  placeMarker();

  const title = h('input', { name: 'title', value: meta.title || '' });
  const alts = locales.map((l) => [l, h('input', { name: `alt-${l}`, value: (meta.alt && meta.alt[l]) || '' })]);
  const tags = h('input', { name: 'tags', value: (meta.tags || []).join(', '), placeholder: 'tag, tag' });
  const rights = meta.rights || {};
  const holder = h('input', { name: 'rights-holder', value: rights.holder || '' });
  const licence = h('input', { name: 'rights-licence', value: rights.licence || '' });
  const expires = h('input', { name: 'rights-expires', type: 'date', value: (rights.expires || '').slice(0, 10) });
  const skus = h('input', { name: 'skus', value: (meta.skus || []).join(', '), placeholder: 'SKU, SKU' });
  const addToProducts = h('input', { type: 'checkbox', id: 'add-to-products', checked: may('products') });
  const summary = h('div.summary');
  const save = h('button.primary', { type: 'submit' }, 'Save');
  const list = (s) => s.split(',').map((x) => x.trim()).filter(Boolean);

  const map = [['/title', title], ['/tags', tags], ['/rights/holder', holder], ['/rights/licence', licence],
    ['/rights/expires', expires], ['/rights', holder], ['/skus', skus], ['/focal_point', title], ...alts.map(([l, el]) => [`/alt/${l}`, el])];

  const form = h('form.asset-meta', {
    novalidate: true,
    on: {
      submit: async (ev) => {
        ev.preventDefault();
        clearErrors(form);
        summary.replaceChildren();
        const alt = {};
        for (const [l, el] of alts) alt[l] = el.value.trim() || null;
        const patch = {
          title: title.value.trim() || null,
          alt,
          tags: list(tags.value),
          rights: { holder: holder.value.trim() || null, licence: licence.value.trim() || null, expires: expires.value || null },
          skus: list(skus.value),
          focal_point: focal,
        };
        save.disabled = true;
        try {
          await dam(`/v1/assets/${encodeURIComponent(id)}/meta`, { method: 'PATCH', json: patch, headers: { 'Content-Type': 'application/merge-patch+json' } });
        } catch (e) {
          save.disabled = false;
          if (!(e instanceof ApiError)) throw e;
          for (const err of e.problem.errors || []) {
            const hit = map.filter(([p]) => err.path === p || (err.path || '').startsWith(`${p}/`)).sort((a, b) => b[0].length - a[0].length)[0];
            if (hit) fieldError(hit[1], err.message || err.code);
          }
          summary.replaceChildren(problemBox(e.problem, 'Nothing was saved'));
          return;
        }
        const added = patch.skus.filter((s) => !(meta.skus || []).includes(s));
        const notes = [];
        if (addToProducts.checked) {
          for (const sku of added) notes.push(await linkToProduct(sku, id));
        }
        save.disabled = false;
        toast('Saved');
        meta = { ...meta, ...patch };
        if (notes.some((n) => n.error)) {
          summary.replaceChildren(h('div.problem', { role: 'alert' }, h('p', h('strong', 'Saved; some products were not updated')),
            h('ul', notes.filter((n) => n.error).map((n) => h('li', `${n.sku}: ${n.error}`)))));
        } else if (notes.length) {
          summary.replaceChildren(h('p.ok', `Added to the images of ${notes.map((n) => n.sku).join(', ')}`));
        }
        linked.replaceChildren(...linkedList(patch.skus));
        heading.textContent = patch.title || name;
        showRights();
      },
    },
  }, readOnly ? readOnlyNote('assets', 'dam') : summary,
  field('Title', title),
  h('fieldset', h('legend', 'Alt text'), alts.map(([l, el]) => field(l, el))),
  field('Tags', tags, 'Comma-separated'),
  h('fieldset', h('legend', 'Rights'), h('div.grid', field('Holder', holder), field('Licence', licence),
    field('Expires', expires, 'After this day the asset is no longer offered to channels'))),
  h('fieldset', h('legend', 'Products'), field('Linked SKUs', skus, 'Comma-separated'),
    // (that changes the products: only for a role that may)
    may('products') ? h('div.field.check', addToProducts, h('label', { for: 'add-to-products' }, "Also add it to each newly linked product's images")) : null),
  h('p', focalText),
  readOnly ? null : h('div.actions', save, h('button.danger', {
    type: 'button',
    on: {
      click: async () => {
        if (!window.confirm(`Delete ${name}? Products that show it lose the image.`)) return;
        try {
          await dam(`/v1/assets/${encodeURIComponent(id)}`, { method: 'DELETE' });
          toast(`Deleted ${name}`);
          location.hash = '#/assets';
        } catch (e) {
          summary.replaceChildren(problemBox(e.problem || { detail: e.message }, 'Cannot delete'));
        }
      },
    },
  }, 'Delete')));

  if (readOnly) for (const c of form.elements) c.disabled = true;

  const heading = h('h1', meta.title || name);
  const rightsNote = h('p.problem', { role: 'status' });
  const showRights = () => {
    rightsNote.hidden = !rightsExpired(meta);
    rightsNote.textContent = rightsNote.hidden ? ''
      : `The rights expired on ${meta.rights.expires}: channels no longer show this asset.`;
  };
  showRights();
  const linked = h('ul.linked');
  linked.replaceChildren(...linkedList(meta.skus || []));

  const info = h('dl.facts',
    fact('File', (meta.filenames || []).join(', ')), fact('Type', meta.mime), fact('Size', fmtBytes(meta.size)),
    meta.width ? fact('Pixels', `${meta.width} × ${meta.height}`) : null, meta.pages ? fact('Pages', meta.pages) : null,
    meta.orientation && meta.orientation !== 1 ? fact('EXIF orientation', meta.orientation) : null,
    meta.has_icc !== undefined ? fact('ICC profile', meta.has_icc ? 'yes' : 'no') : null,
    fact('Uploaded', fmtTime(meta.created)), fact('Id', h('code.id', id)));

  const renditions = isImage ? h('div.renditions', h('h2', 'Renditions'), h('ul.rendition-list', presets().map((p) => h('li',
    // big print-sized presets are offered as links, not drawn on every visit
    h('a', { href: renditionUrl(id, p.name), target: '_blank', rel: 'noopener' }, (p.width || 0) > 1200 ? 'open'
      : h('img', { src: renditionUrl(id, p.name), alt: `${p.name} rendition`, loading: 'lazy', class: `r-${p.name}` })),
    h('span', { title: p.description || '' }, p.name, p.width ? h('span.muted', ` ${p.width}×${p.height}`) : null))))) : null;

  return h('section',
    h('p.crumbs', h('a', { href: '#/assets' }, 'Assets'), ' / ', name),
    heading, rightsNote,
    h('div.asset-layout', h('div', preview, renditions, info), h('div', form, h('h2', 'Linked products'), linked)));
}

// Whether the asset's rights have expired (channels stop showing it the
// day after rights.expires, UTC).
export function rightsExpired(meta) {
  const day = meta.rights && meta.rights.expires;
  return Boolean(day && day.slice(0, 10) < new Date().toISOString().slice(0, 10));
}

// A deleted asset, whose record damd keeps until its collector removes
// it: what it was and when it went, nothing to edit.
function deletedPage(id, meta) {
  const name = (meta.filenames && meta.filenames[0]) || id;
  return h('section',
    h('p.crumbs', h('a', { href: '#/assets' }, 'Assets'), ' / ', name),
    h('h1', meta.title || name),
    h('p.problem', { role: 'status' }, `Deleted ${fmtTime(meta.deleted_at)}: its file and renditions are no longer served `
      + 'and products no longer show it. Uploading the same file again brings it back.'),
    h('dl.facts', fact('File', (meta.filenames || []).join(', ')), fact('Type', meta.mime), fact('Size', fmtBytes(meta.size)),
      fact('Linked SKUs', (meta.skus || []).join(', ') || '—'), fact('Uploaded', fmtTime(meta.created)), fact('Id', h('code.id', id))));
}

function fact(k, v) {
  return [h('dt', k), h('dd', v ?? '')];
}

function linkedList(skus) {
  if (!skus.length) return [h('li.muted', 'None yet')];
  return skus.map((s) => h('li', h('a', { href: `#/products/${encodeURIComponent(s)}` }, s)));
}

// Appends asset id to the image attribute of product sku (the family's
// image_attribute, else "images"). Returns {sku, error?}.
async function linkToProduct(sku, id) {
  try {
    const p = await pim(`/v1/products/${encodeURIComponent(sku)}`);
    const fams = await schema('families').catch(() => []);
    const fam = fams.find((f) => f.code === p.family);
    const attr = (fam && fam.image_attribute) || 'images';
    const vals = (p.values && p.values[attr]) || [];
    const entry = vals.find((e) => !e.locale && !e.channel);
    let next;
    if (entry) {
      const ids = Array.isArray(entry.data) ? entry.data : entry.data ? [entry.data] : [];
      if (ids.includes(id)) return { sku };
      next = vals.map((e) => (e === entry ? { ...e, data: [...ids, id] } : e));
    } else {
      next = [...vals, { locale: null, channel: null, data: [id] }];
    }
    await pim(`/v1/products/${encodeURIComponent(sku)}`, {
      method: 'PATCH',
      json: { values: { [attr]: next } },
      headers: { 'Content-Type': 'application/merge-patch+json' },
    });
    return { sku };
  } catch (e) {
    return { sku, error: (e.problem && ((e.problem.errors && e.problem.errors[0] && e.problem.errors[0].message) || e.problem.detail || e.problem.title)) || e.message };
  }
}
