// #/imports: upload a feed file as an import job and watch it: progress,
// counts, and the per-line error report. #/imports/ID shows one job.
import { auth, pim, query, upload, profiles, schema, may, role } from '../api.js';
import { h, field, problemBox, fmtBytes, items } from '../ui.js';
import { readOnlyNote } from './common.js';

const RECENT = 'hub.recentImports';
const FORMATS = [['csv', 'CSV'], ['gmc-xml', 'Google Merchant XML'], ['gmc-tsv', 'Google Merchant TSV'],
  ['bmecat', 'BMEcat XML'], ['jsonl', 'JSON lines']];
const FINAL = ['done', 'failed', 'cancelled'];

function recent() {
  try { return JSON.parse(localStorage.getItem(RECENT) || '[]'); } catch { return []; }
}
function remember(job, file) {
  const list = recent().filter((j) => j.id !== job.id);
  list.unshift({ id: job.id, file, at: new Date().toISOString() });
  localStorage.setItem(RECENT, JSON.stringify(list.slice(0, 20)));
}

// The format of a file from its name and its first bytes (head): an XML
// file is BMEcat when its root is <BMECAT>, whatever it is called.
function guessFormat(name, head) {
  const n = name.toLowerCase();
  if (n.endsWith('.jsonl') || n.endsWith('.ndjson')) return 'jsonl';
  if (n.endsWith('.tsv') || n.endsWith('.txt')) return 'gmc-tsv';
  if (n.endsWith('.xml')) return /bmecat/.test(n) || /<BMECAT[\s>]/.test(head) ? 'bmecat' : 'gmc-xml';
  return 'csv';
}

// The profile a CSV's header line is written for: Shopify's product CSV
// starts with Handle, Magento's export names store views and attribute
// sets, Akeneo's exports are ;-separated from their code or sku column.
function guessProfile(header) {
  const line = header.replace(/^\uFEFF/, '');
  if (/^"?Handle"?,/.test(line)) return 'shopify';
  if (/(^|,)store_view_code(,|$)/.test(line) && /(^|,)attribute_set_code(,|$)/.test(line)) return 'magento';
  if (/^(code|sku);/.test(line)) return 'akeneo';
  return '';
}

export async function importsPage(jobId) {
  if (!may('read-imports')) {
    return h('section', h('h1', 'Imports'),
      h('p.notice.read-only', { role: 'note' }, `This token (${role()}) can neither run imports nor read them.`));
  }
  const file = h('input', { type: 'file', name: 'file', required: true, accept: '.csv,.tsv,.txt,.xml,.jsonl,.ndjson' });
  const format = h('select', { name: 'format' }, FORMATS.map(([v, l]) => h('option', { value: v }, l)));
  const profile = h('input', { name: 'profile', list: 'profiles', placeholder: 'none' });
  const locales = (await schema('locales').catch(() => [])).map((l) => l.code);
  const locale = h('select', { name: 'locale' }, h('option', { value: '' }, 'Catalog default'),
    locales.map((l) => h('option', { value: l }, l)));
  const mode = h('select', { name: 'mode' },
    h('option', { value: 'upsert' }, 'Create and update'),
    h('option', { value: 'create' }, 'Create only'),
    h('option', { value: 'update' }, 'Update only'));
  const dry = h('input', { type: 'checkbox', name: 'dry_run', id: 'imp-dry' });
  const go = h('button.primary', { type: 'submit' }, 'Import');
  const job = h('div.job-slot');
  // A guessed profile is replaced by the next file's guess; one typed stays.
  file.addEventListener('change', async () => {
    const f = file.files[0];
    if (!f) return;
    const head = await f.slice(0, 4096).text();
    format.value = guessFormat(f.name, head);
    if (profile.value && !profile.dataset.guessed) return;
    const guess = format.value === 'csv' ? guessProfile(head.split(/\r?\n/)[0]) : '';
    profile.value = profiles().includes(guess) ? guess : '';
    profile.dataset.guessed = profile.value ? '1' : '';
  });
  profile.addEventListener('input', () => { profile.dataset.guessed = ''; });

  const form = h('form.import', {
    on: {
      submit: async (ev) => {
        ev.preventDefault();
        const f = file.files[0];
        if (!f) return;
        go.disabled = true;
        const bar = h('progress', { max: 100, value: 0, 'aria-label': 'Upload' });
        job.replaceChildren(h('div.card', h('p', `Uploading ${f.name} (${fmtBytes(f.size)})…`), bar));
        try {
          const q = query({ format: format.value, profile: profile.value.trim(), locale: locale.value, mode: mode.value, dry_run: dry.checked ? 'true' : '' });
          const r = await upload(`/v1/imports${q}`, f, {
            token: auth.token,
            headers: { 'Content-Type': 'application/octet-stream' },
            progress: (done, total) => { bar.value = total ? (100 * done) / total : 0; },
          });
          const j = r.body || {};
          const id = j.id || (j.job && j.job.id);
          remember({ id }, f.name);
          if (job.isConnected) {
            history.replaceState(null, '', `#/imports/${encodeURIComponent(id)}`);
            job.replaceChildren(jobView(id, j, refreshRecent));
          } else if (location.hash.startsWith('#/imports')) {
            // the imports page was drawn anew while the file was sent (a
            // navigation elsewhere is left alone: the job is in the list)
            location.replace(`#/imports/${encodeURIComponent(id)}`);
          }
        } catch (e) {
          job.replaceChildren(problemBox(e.problem || { detail: e.message }, 'The import was not accepted'));
        }
        go.disabled = false;
      },
    },
  },
  h('div.grid', field('Feed file', file), field('Format', format),
    field('Profile', profile, 'Column mapping, e.g. akeneo, shopify or magento; empty for our own CSV columns'),
    field('Language of the feed', locale, 'For text the feed gives without a locale (a Merchant title, a CSV name column)'),
    field('Mode', mode)),
  h('datalist', { id: 'profiles' }, profiles().map((p) => h('option', { value: p }))),
  h('div.field.check', dry, h('label', { for: 'imp-dry' }, 'Dry run: validate every line, change nothing')),
  go);

  // a job that ends while shown joins the recent list
  const recentSlot = h('div', await recentJobs());
  async function refreshRecent() {
    const list = await recentJobs();
    if (recentSlot.isConnected) recentSlot.replaceChildren(...[list].filter(Boolean));
  }
  if (jobId) job.replaceChildren(jobView(jobId, null, refreshRecent));
  return h('section', h('h1', 'Imports'),
    h('p.muted', 'Upload a catalog feed. Every line is validated against the schema; lines that fail are listed with their reason and change nothing.'),
    may('imports') ? form : readOnlyNote('imports'), job, recentSlot);
}

// Recent jobs: pimd's list (GET /v1/imports), named by the files this
// browser uploaded; the browser's own list when pimd cannot list.
async function recentJobs() {
  const files = Object.fromEntries(recent().map((r) => [r.id, r]));
  let list;
  try {
    list = items(await pim('/v1/imports?limit=20'));
  } catch {
    list = recent().map((r) => ({ id: r.id }));
  }
  if (!list.length) return null;
  return h('section.recent', h('h2', 'Recent imports'), h('table.list',
    h('thead', h('tr', h('th', 'Job'), h('th', 'File'), h('th', 'Status'), h('th', 'Format'),
      h('th', 'Created'), h('th', 'Updated'), h('th', 'Failed'))),
    h('tbody', list.map((j) => h('tr',
      h('td', h('a', { href: `#/imports/${encodeURIComponent(j.id)}` }, j.id)),
      h('td', files[j.id] ? files[j.id].file : h('span.muted', '—')),
      h('td', j.status ? h(`span.status.${j.status}`, j.status) : '', j.dry_run ? [' ', h('span.badge', 'dry run')] : null),
      h('td', j.format || ''), h('td', String(j.created ?? '')), h('td', String(j.updated ?? '')),
      h('td', String(j.failed ?? '')))))));
}

// Akeneo sub-models an import kept (they are records, not products, so the
// product counts above leave them out); nothing when there were none.
function modelCounts(m) {
  const kept = m ? (m.created || 0) + (m.updated || 0) + (m.unchanged || 0) : 0;
  if (!kept && !(m && m.variants_updated)) return null;
  const c = (k, v, label) => h('div.count', { dataset: { count: k } }, h('span.num', String(v)), h('span.label', label));
  return h('div.counts.models', c('models-kept', kept, 'sub-models kept'),
    c('models-created', m.created || 0, 'new'), c('models-updated', m.updated || 0, 'changed'),
    c('models-variants', m.variants_updated || 0, 'variants updated'));
}

// A live report of job id; polls until the job ends or the view goes away,
// and calls ended() when a job it saw running ends.
function jobView(id, first, ended) {
  const box = h('div.card.job', { 'aria-live': 'polite', dataset: { job: id } });
  let stopped = false;
  let running = Boolean(first && !FINAL.includes(first.status));
  const draw = (j) => {
    const total = j.bytes_total || 0;
    const pct = total ? Math.min(100, Math.round((100 * (j.bytes_done || 0)) / total)) : (FINAL.includes(j.status) ? 100 : 0);
    // a dry run changes nothing: its counts say what the import would do
    const says = { schema_written: 'structure records written',
      ...(j.dry_run ? { created: 'would be created', updated: 'would be updated', failed: 'would fail' } : {}) };
    const n = (k) => h('div.count', { dataset: { count: k } }, h('span.num', String(j[k] ?? 0)), h('span.label', says[k] || k));
    const errs = j.errors || [];
    // pimd keeps the first problems of a job and counts them all
    const problems = Math.max(j.errors_total || 0, errs.length);
    box.replaceChildren(...[
      h('div.job-head', h('h2', `Import ${id}`), h(`span.status.${j.status || 'queued'}`, j.status || 'queued'),
        j.dry_run ? h('span.badge', 'dry run') : null,
        FINAL.includes(j.status) || !may('imports') ? null : h('button.small.danger', {
          type: 'button',
          on: {
            click: async (ev) => {
              ev.target.disabled = true;
              try {
                await pim(`/v1/imports/${encodeURIComponent(id)}/cancel`, { method: 'POST' });
              } catch (e) {
                box.append(problemBox(e.problem || { detail: e.message }, 'Cannot cancel'));
              }
            },
          },
        }, 'Cancel')),
      h('p.muted', [j.format, j.profile && `profile ${j.profile}`, j.locale, j.mode].filter(Boolean).join(' · '),
        j.rows_per_second ? ` · ${Math.round(j.rows_per_second)} rows/s` : ''),
      h('progress', { max: 100, value: pct, 'aria-label': 'Import progress' }),
      h('p.muted', total ? `${fmtBytes(j.bytes_done || 0)} of ${fmtBytes(total)}` : ''),
      h('div.counts', n('rows'), n('created'), n('updated'), n('unchanged'), n('failed'),
        j.schema_written ? n('schema_written') : null),
      modelCounts(j.models),
      j.detail || j.error ? h('p.problem', j.detail || j.error) : null,
      errs.length ? h('div', h('h3', problems > errs.length
        ? `Problems (${problems}; the first ${errs.length} are listed)` : `Problems (${problems})`),
        h('table.list.errors',
        h('thead', h('tr', h('th', 'Line'), h('th', 'Field'), h('th', 'Code'), h('th', 'Message'))),
        h('tbody', errs.map((e) => h('tr', h('td', String(e.line ?? '')), h('td', e.field || e.path || ''),
          h('td', h('code', e.code || '')), h('td', e.message || '')))))) : null].filter(Boolean));
  };
  const poll = async () => {
    if (stopped || !box.isConnected && box.dataset.started) return;
    box.dataset.started = '1';
    try {
      const j = await pim(`/v1/imports/${encodeURIComponent(id)}`);
      draw(j);
      if (!FINAL.includes(j.status)) {
        running = true;
        setTimeout(poll, 400);
      } else if (running && ended) ended();
    } catch (e) {
      stopped = true;
      box.replaceChildren(problemBox(e.problem || { detail: e.message }, `Cannot read import ${id}`));
    }
  };
  if (first) draw(first);
  else box.append(h('p.muted', 'Loading…'));
  setTimeout(poll, first ? 200 : 0);
  return box;
}
