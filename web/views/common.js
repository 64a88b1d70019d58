// Reading canonical product documents: labels, images, completeness; the
// notices views share.
import { pim, role } from '../api.js';
import { h } from '../ui.js';

const PREFERRED_LOCALE = (navigator.language || 'en-US').replace('-', '_');

// The value entries of attribute code in product p (an array, maybe empty).
export function entries(p, code) {
  const v = p && p.values && p.values[code];
  return Array.isArray(v) ? v : [];
}

// The product's label: the family's label attribute (or "name"), in the
// browser's locale when there is one, else the first value.
export function labelOf(p, fam) {
  for (const code of [fam && fam.label_attribute, 'name', 'title'].filter(Boolean)) {
    const es = entries(p, code).filter((e) => typeof e.data === 'string' && e.data);
    const pick = es.find((e) => e.locale === PREFERRED_LOCALE) || es.find((e) => !e.locale || e.locale.startsWith('en')) || es[0];
    if (pick) return pick.data;
  }
  return '';
}

function assetIds(data) {
  if (typeof data === 'string') return data.startsWith('sha256:') ? [data] : [];
  if (Array.isArray(data)) return data.flatMap(assetIds);
  return [];
}

// Every asset id in the product's image attribute (the family's, else any
// value holding sha256: ids).
export function assetIdsOf(p, fam) {
  const code = fam && fam.image_attribute;
  if (code) {
    const ids = entries(p, code).flatMap((e) => assetIds(e.data));
    if (ids.length) return ids;
  }
  for (const c of Object.keys((p && p.values) || {})) {
    const ids = entries(p, c).flatMap((e) => assetIds(e.data));
    if (ids.length) return ids;
  }
  return [];
}

export function firstAssetId(p, fam) {
  return assetIdsOf(p, fam)[0] || '';
}

// Small chips: one per channel/locale with its ratio, red when incomplete.
export function completenessChips(c) {
  if (!c || typeof c !== 'object') return h('span.muted', '—');
  const keys = Object.keys(c).sort();
  if (!keys.length) return h('span.muted', '—');
  return h('span.chips', keys.map((k) => {
    const r = ratio(c[k]);
    const missing = (c[k] && c[k].missing) || [];
    return h(`span.chip.${r >= 100 ? 'done' : 'todo'}`, {
      title: missing.length ? `${k}: missing ${missing.join(', ')}` : `${k}: complete`,
    }, `${k} ${r}%`);
  }));
}

// One line for lists: how many channel/locale pairs are complete, a bar of
// the average ratio, the details in the tooltip.
export function completenessSummary(c) {
  const keys = c && typeof c === 'object' ? Object.keys(c).sort() : [];
  if (!keys.length) return h('span.muted', '—');
  const done = keys.filter((k) => ratio(c[k]) >= 100).length;
  const avg = Math.round(keys.reduce((s, k) => s + ratio(c[k]), 0) / keys.length);
  const title = keys.map((k) => {
    const m = (c[k] && c[k].missing) || [];
    return `${k}: ${ratio(c[k])}%${m.length ? ` (missing ${m.join(', ')})` : ''}`;
  }).join('\n');
  return h('span.cmpl', { title },
    h('meter', { min: 0, max: 100, value: avg, low: 50, high: 99, optimum: 100, 'aria-label': `average completeness ${avg}%` }),
    ` ${done}/${keys.length} complete`);
}

export function ratio(x) {
  if (typeof x === 'number') return x;
  return x && typeof x.ratio === 'number' ? x.ratio : 0;
}

const REFRESH_POLL_MS = 2000;

function scopeName(q) {
  if (q.scope === 'family') return `family ${q.code}`;
  if (q.scope === 'category') return `category ${q.code}`;
  return 'a channel';
}

// After a schema change pimd recomputes the affected products'
// completeness in the background (GET /v1/schema-refresh lists what is
// left). While it does, the figures on screen may be about to change: say
// so, look again every few seconds while the notice is shown, and once the
// work is done offer to draw the page again (not done unasked: the user
// may be reading it).
export function refreshNotice() {
  const box = h('p.notice', { role: 'status', hidden: true });
  const check = async () => {
    if (!box.hidden && !box.isConnected) return; // the page was left
    let queued;
    try {
      queued = ((await pim('/v1/schema-refresh')) || {}).queued || [];
    } catch {
      if (!box.hidden) setTimeout(check, REFRESH_POLL_MS); // a hiccup: ask again
      return; // else an older pimd: no notice
    }
    if (queued.length) {
      box.hidden = false;
      box.dataset.state = 'refreshing';
      box.replaceChildren(`Completeness is being recomputed after a change of ${queued.map(scopeName).join(', ')}: `
        + 'the figures below may change.');
      setTimeout(check, REFRESH_POLL_MS);
    } else if (!box.hidden) {
      box.dataset.state = 'done';
      box.replaceChildren('Completeness is recomputed. ', h('button.link', {
        type: 'button',
        on: { click: () => window.dispatchEvent(new HashChangeEvent('hashchange')) },
      }, 'Show the new figures'));
    }
  };
  check();
  return box;
}

// Said instead of a form when the token's role (on pimd, or damd for
// assets) may read what the page shows but not change it.
export function readOnlyNote(what, daemon = 'pim') {
  return h('p.notice.read-only', { role: 'note' },
    `This token (${role(daemon)}) can read ${what} but not change them.`);
}
