// Talks to pimd (this page's origin) and damd (its URL comes from
// GET /v1/ui-config). Every call sends the bearer token kept in
// localStorage; failures become ApiError carrying the problem document.

const KEY = 'hub.token';
const DAM_KEY = 'hub.damToken';

export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || { title: `HTTP ${status}` };
  }
}

export const auth = {
  get token() { return localStorage.getItem(KEY) || ''; },
  get damToken() { return localStorage.getItem(DAM_KEY) || localStorage.getItem(KEY) || ''; },
  set(token, damToken) {
    localStorage.setItem(KEY, token);
    if (damToken) localStorage.setItem(DAM_KEY, damToken);
    else localStorage.removeItem(DAM_KEY);
    forgetRoles();
  },
  clear() { localStorage.removeItem(KEY); localStorage.removeItem(DAM_KEY); forgetRoles(); },
};

// The signed-in token's role on each daemon (GET /v1/tokens/self), asked
// once per sign-in: {pim, dam}, each null when unknown (refused, not
// reachable, an older daemon). The daemons stay the authority: this only
// spares people controls that would be refused.
let asked = null;
let known = { pim: null, dam: null };
export function whoami() {
  if (!asked) {
    const ask = (call) => call('/v1/tokens/self', { signIn: true }).catch(() => null);
    const p = Promise.all([ask(pim), ask(dam)]).then(([a, d]) => {
      if (asked === p) known = { pim: a, dam: d }; // not signed out meanwhile
      return known;
    });
    asked = p;
  }
  return asked;
}
function forgetRoles() {
  asked = null;
  known = { pim: null, dam: null };
}

// What each role may change, as the daemons' route tables allow it (pimd
// api.c and imports.c, damd assets.c, tokens in common/http.c); admin may
// everything. Reading is every role's, except that a designer may not read
// imports.
const MAY = {
  products: ['merchandiser'], // PUT/PATCH/DELETE a product, revert
  imports: ['merchandiser'], // POST /v1/imports, cancel
  'read-imports': ['merchandiser', 'reader'],
  tokens: [],
  assets: ['designer'], // on damd: upload, archive, PATCH meta, DELETE
};

// Whether the signed-in token may do what (a key of MAY); true when its
// role is not known, so that nothing is hidden that it may do.
export function may(what) {
  const r = known[what === 'assets' ? 'dam' : 'pim'];
  return !r || r.role === 'admin' || MAY[what].includes(r.role);
}
export function role(daemon = 'pim') { return known[daemon] && known[daemon].role; }

let config = null;
export async function uiConfig() {
  if (config) return config;
  try {
    const r = await fetch('/v1/ui-config');
    config = r.ok ? await r.json() : {};
  } catch {
    config = {};
  }
  if (!config.damd_url) config.damd_url = `${location.protocol}//${location.hostname}:8081`;
  config.damd_url = config.damd_url.replace(/\/+$/, '');
  return config;
}
export function damUrl() { return config ? config.damd_url : ''; }
// Import profile names and rendition presets shipped with pimd's schemas.
export function profiles() { return (config && config.profiles) || []; }
export function presets() {
  const p = config && config.presets;
  return Array.isArray(p) && p.length ? p : [{ name: 'web-thumb' }, { name: 'web-large' }];
}

// Called with the failing response when a token is refused (401).
let onUnauthorized = null;
export function setUnauthorizedHandler(fn) { onUnauthorized = fn; }

async function problemOf(r) {
  const text = await r.text();
  try {
    const j = JSON.parse(text);
    if (j && typeof j === 'object') return j;
  } catch { /* not JSON: fall through */ }
  return { title: `HTTP ${r.status}`, detail: text.slice(0, 300) };
}

// request(base, path, {method, body, json, headers, raw, signIn}) → parsed
// JSON (or text / the Response with raw). Throws ApiError on non-2xx; a 401
// signs out unless signIn (the sign-in form's own check) is set.
async function request(base, token, path, opt = {}) {
  const headers = { ...(opt.headers || {}) };
  if (token) headers.Authorization = `Bearer ${token}`;
  let { body } = opt;
  if (opt.json !== undefined) {
    body = JSON.stringify(opt.json);
    if (!headers['Content-Type']) headers['Content-Type'] = 'application/json';
  }
  let r;
  try {
    r = await fetch(base + path, { method: opt.method || 'GET', headers, body });
  } catch (e) {
    throw new ApiError(0, { title: 'Network error', detail: `cannot reach ${base || location.origin}: ${e.message}` });
  }
  if (!r.ok && r.status !== 304) {
    const p = await problemOf(r);
    if (r.status === 401 && onUnauthorized && !opt.signIn) onUnauthorized(base);
    throw new ApiError(r.status, p);
  }
  if (opt.raw) return r;
  if (r.status === 204) return null;
  const ct = r.headers.get('Content-Type') || '';
  if (ct.includes('json')) return r.json();
  return r.text();
}

export const pim = (path, opt) => request('', auth.token, path, opt);
export const dam = (path, opt) => request(damUrl(), auth.damToken, path, opt);

// query({a:1,b:''}) → "?a=1" (empty values left out)
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== '' && v !== null && v !== undefined) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}

// A preset's tag changes with its parameters: damd serves renditions as
// immutable, so the browser must not keep an edited preset's old images.
export function renditionUrl(id, preset) {
  const p = presets().find((x) => x.name === preset);
  const v = p && p.tag ? `?v=${p.tag}` : '';
  return `${damUrl()}/v1/renditions/${encodeURIComponent(id)}/${preset}${v}`;
}

// Uploads a File with XMLHttpRequest so that progress(loaded,total) can be
// shown; resolves to the parsed JSON answer, rejects with ApiError.
export function upload(url, file, { token, headers = {}, progress } = {}) {
  return new Promise((resolve, reject) => {
    const x = new XMLHttpRequest();
    x.open('POST', url);
    if (token) x.setRequestHeader('Authorization', `Bearer ${token}`);
    for (const [k, v] of Object.entries(headers)) x.setRequestHeader(k, v);
    if (progress) x.upload.onprogress = (e) => progress(e.loaded, e.total);
    x.onerror = () => reject(new ApiError(0, { title: 'Network error', detail: `cannot reach ${new URL(url, location.href).origin}` }));
    x.onload = () => {
      let j = null;
      try { j = JSON.parse(x.responseText); } catch { j = null; }
      if (x.status >= 200 && x.status < 300) resolve({ status: x.status, body: j });
      else {
        if (x.status === 401 && onUnauthorized) onUnauthorized(url);
        reject(new ApiError(x.status, j || { title: `HTTP ${x.status}`, detail: x.responseText.slice(0, 300) }));
      }
    };
    x.send(file);
  });
}

// Every item of a pimd collection, following next_cursor (at most max).
export async function all(path, max = 5000) {
  const out = [];
  let cursor = '';
  for (;;) {
    const sep = path.includes('?') ? '&' : '?';
    const j = await pim(cursor ? `${path}${sep}cursor=${encodeURIComponent(cursor)}` : path);
    if (Array.isArray(j)) return out.concat(j);
    out.push(...((j && j.items) || []));
    cursor = j && j.next_cursor;
    if (!cursor || out.length >= max) return out;
  }
}

// Schema documents change rarely: one load per page view, shared by views.
const schemaCache = new Map();
export async function schema(kind) {
  if (!schemaCache.has(kind)) {
    const p = all(`/v1/${kind}`);
    schemaCache.set(kind, p);
    p.catch(() => schemaCache.delete(kind));
  }
  return schemaCache.get(kind);
}
export function clearSchemaCache() { schemaCache.clear(); }
