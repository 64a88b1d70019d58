// #/assets: upload files and archives to damd, browse and filter assets.
import { auth, dam, damUrl, query, renditionUrl, upload, may } from '../api.js';
import { h, field, problemBox, fmtBytes, items } from '../ui.js';
import { rightsExpired } from './asset.js';
import { readOnlyNote } from './common.js';

const FILTERS = ['q', 'tag', 'sku', 'mime'];
const ARCHIVE = /\.(zip|tar|tgz|tar\.gz)$/i;

// Header values must be ASCII to arrive intact; other names travel in a
// multipart form, whose part header carries UTF-8.
const plainName = (name) => /^[\x20-\x7e]*$/.test(name);

export async function assetList(params) {
  const f = Object.fromEntries(FILTERS.map((k) => [k, params.get(k) || '']));
  const inputs = {
    q: h('input', { type: 'search', name: 'q', value: f.q, placeholder: 'words of file name, title, tag, SKU' }),
    tag: h('input', { name: 'tag', value: f.tag }),
    sku: h('input', { name: 'sku', value: f.sku }),
    mime: h('select', { name: 'mime' }, [['', 'Any type'], ['image/', 'Images'], ['application/pdf', 'PDF']]
      .map(([v, l]) => h('option', { value: v, selected: v === f.mime }, l))),
  };
  const filters = h('form.filters', {
    role: 'search',
    on: {
      submit: (ev) => {
        ev.preventDefault();
        location.hash = `#/assets${query(Object.fromEntries(FILTERS.map((k) => [k, inputs[k].value.trim()])))}`;
      },
    },
  }, field('Search', inputs.q), field('Tag', inputs.tag), field('Linked SKU', inputs.sku), field('Type', inputs.mime),
  h('button.primary', { type: 'submit' }, 'Search'));

  const grid = h('ul.grid-assets');
  const status = h('p.muted', { role: 'status' });
  const more = h('button', { type: 'button', hidden: true }, 'Load more');
  let cursor = '';
  let shown = 0;
  async function load() {
    more.disabled = true;
    try {
      const j = await dam(`/v1/assets${query({ ...f, limit: 48, cursor })}`);
      sessionStorage.removeItem('hub.damWarning'); // damd answers: a warning from sign-in is stale
      for (const a of items(j)) grid.append(card(a));
      shown += items(j).length;
      cursor = j && j.next_cursor;
      more.hidden = !cursor;
      status.textContent = shown ? `${shown} asset${shown === 1 ? '' : 's'}${cursor ? ' so far' : ''}` : 'No assets match.';
    } catch (e) {
      status.replaceChildren(problemBox(e.problem || { detail: e.message }, `Cannot list assets from ${damUrl()}`));
    }
    more.disabled = false;
  }
  more.addEventListener('click', load);

  await load();
  const warning = sessionStorage.getItem('hub.damWarning');
  return h('section',
    h('h1', 'Assets'),
    warning ? h('p.problem', warning) : null,
    may('assets') ? uploader(() => { location.hash = '#/assets'; window.dispatchEvent(new HashChangeEvent('hashchange')); })
      : readOnlyNote('assets', 'dam'),
    filters, status, grid, more);
}

function card(a) {
  const name = (a.filenames && a.filenames[0]) || a.id;
  const isImage = (a.mime || '').startsWith('image/') || a.width;
  return h('li.asset-card', { dataset: { id: a.id } },
    h('a', { href: `#/assets/${encodeURIComponent(a.id)}` },
      h('div.frame', isImage || a.pages
        ? h('img', { src: renditionUrl(a.id, 'web-thumb'), alt: (a.alt && (a.alt.en_US || Object.values(a.alt)[0])) || name, loading: 'lazy' })
        : h('span.filetype', (a.mime || 'file').split('/').pop())),
      h('span.name', a.title || name)),
    h('span.muted.small', [a.mime, a.width && a.height ? `${a.width}×${a.height}` : '', fmtBytes(a.size)].filter(Boolean).join(' · ')),
    rightsExpired(a) ? h('span.chips', h('span.chip.todo', { title: `rights expired on ${a.rights.expires}` }, 'rights expired')) : null,
    (a.tags || []).length ? h('span.chips', a.tags.map((t) => h('span.chip', t))) : null,
    (a.skus || []).length ? h('span.chips', a.skus.map((s) => h('a.chip.sku', { href: `#/products/${encodeURIComponent(s)}` }, s))) : null);
}

// The upload box: pick or drop files; archives go to /v1/assets/archive.
function uploader(done) {
  const input = h('input', { type: 'file', multiple: true, name: 'files', id: 'asset-files' });
  const log = h('ul.upload-log', { 'aria-live': 'polite' });
  const zone = h('div.dropzone',
    h('label', { for: 'asset-files' }, h('strong', 'Upload assets'), h('span.muted', ' — images, PDFs, or a zip/tar archive of them (a manifest.csv inside links files to SKUs)')),
    input, log);
  const send = async (files) => {
    let ok = 0;
    for (const file of files) {
      const bar = h('progress', { max: 100, value: 0, 'aria-label': `Upload of ${file.name}` });
      const line = h('li', h('span.fname', file.name), ' ', bar);
      log.append(line);
      const archive = ARCHIVE.test(file.name);
      try {
        let body = file;
        let headers = { 'Content-Type': 'application/octet-stream', 'X-Filename': file.name };
        if (!archive && !plainName(file.name)) {
          body = new FormData();
          body.append('file', file, file.name);
          headers = {};
        }
        const r = await upload(`${damUrl()}/v1/assets${archive ? '/archive' : ''}`, body, {
          token: auth.damToken,
          headers,
          progress: (d, t) => { bar.value = t ? (100 * d) / t : 0; },
        });
        bar.remove();
        const b = r.body || {};
        if (archive) {
          const stored = b.stored || [];
          const refused = b.refused || [];
          line.append(h('span.ok', `${stored.length} stored`));
          if (refused.length) {
            line.append(h('span.bad', `, ${refused.length} refused`),
              h('ul', refused.map((x) => h('li', h('code', x.entry), `: ${x.reason}`))));
          }
        } else {
          line.append(h('span.ok', r.status === 201 ? 'stored' : 'already stored'), ' ',
            h('a', { href: `#/assets/${encodeURIComponent(b.id)}` }, 'open'));
        }
        ok += 1;
      } catch (e) {
        bar.remove();
        // status 0: nothing answered, so nothing was refused either
        line.append(h('span.bad', `${e.status ? 'refused' : 'not sent'}: ${e.problem.detail || e.problem.title || e.message}`));
      }
    }
    if (ok) {
      const refresh = h('button.small', { type: 'button', on: { click: done } }, 'Show in the list');
      log.append(h('li', refresh));
    }
  };
  input.addEventListener('change', () => { if (input.files.length) send([...input.files]); });
  zone.addEventListener('dragover', (ev) => { ev.preventDefault(); zone.classList.add('over'); });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (ev) => {
    ev.preventDefault();
    zone.classList.remove('over');
    if (ev.dataTransfer.files.length) send([...ev.dataTransfer.files]);
  });
  return zone;
}
