// The single page: hash routes to views, the token login, the header.
import { auth, pim, dam, uiConfig, setUnauthorizedHandler, ApiError, clearSchemaCache, whoami, may } from './api.js';
import { h, field, problemBox } from './ui.js';
import { productList } from './views/products.js';
import { productPage } from './views/product.js';
import { importsPage } from './views/imports.js';
import { assetList } from './views/assets.js';
import { assetPage } from './views/asset.js';
import { completenessPage } from './views/completeness.js';
import { tokensPage } from './views/tokens.js';

const main = document.getElementById('main');

// #/products/SKU?x=1 → {parts:['products','SKU'], params:URLSearchParams}
function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, qs] = raw.split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { parts, params: new URLSearchParams(qs || '') };
}

const routes = [
  [(p) => p[0] === 'products' && p.length === 1, (r) => productList(r.params)],
  [(p) => p[0] === 'products' && p[1] === 'new', () => productPage(null)],
  [(p) => p[0] === 'products' && p.length >= 2, (r) => productPage(r.parts[1], r.parts[2], r.params)],
  [(p) => p[0] === 'imports', (r) => importsPage(r.parts[1])],
  [(p) => p[0] === 'assets' && p.length === 1, (r) => assetList(r.params)],
  [(p) => p[0] === 'assets' && p.length >= 2, (r) => assetPage(r.parts[1])],
  [(p) => p[0] === 'completeness', (r) => completenessPage(r.params)],
  [(p) => p[0] === 'tokens', () => tokensPage()],
];

let renderSeq = 0;
async function render() {
  const me = auth.token ? await whoami() : null;
  renderWho(me);
  if (!auth.token) {
    loginPage();
    return;
  }
  const shown = location.hash;
  const r = parseHash();
  if (!r.parts.length) {
    location.replace('#/products');
    return;
  }
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === r.parts[0]) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const route = routes.find(([m]) => m(r.parts));
  const seq = ++renderSeq;
  let view;
  try {
    view = route ? await route[1](r) : h('section', h('h1', 'Not found'), h('p', 'No such page.'));
  } catch (e) {
    view = h('section', problemBox(e instanceof ApiError ? e.problem : { title: 'Error', detail: e.message }));
  }
  if (seq !== renderSeq) return; // a later navigation won
  // The old view replaced the address while this one was drawn (an import
  // started on the form still shown): draw that address, not a stale one.
  if (location.hash !== shown) {
    render();
    return;
  }
  main.replaceChildren(view);
  main.dataset.route = location.hash; // what is shown (tests wait for it)
  const heading = main.querySelector('h1');
  document.title = heading ? `${heading.textContent} · Hub` : 'Hub';
}

// Who is signed in, and the pages their role may use in the navigation.
function renderWho(me) {
  const who = document.getElementById('who');
  who.replaceChildren();
  const nav = (name) => document.querySelector(`[data-nav="${name}"]`);
  nav('tokens').hidden = !may('tokens');
  nav('imports').hidden = !may('read-imports');
  if (!auth.token) return;
  if (me && me.pim) who.append(h('span.muted', { title: 'this token and its role' }, `${me.pim.name} (${me.pim.role})`), ' ');
  who.append(h('button.link', {
    type: 'button',
    on: { click: () => { auth.clear(); clearSchemaCache(); render(); } },
  }, 'Sign out'));
}

// The token form: checks the token against both daemons before keeping it.
function loginPage() {
  for (const a of document.querySelectorAll('[data-nav]')) a.removeAttribute('aria-current');
  const token = h('input', { type: 'password', name: 'token', autocomplete: 'current-password', required: true });
  const damToken = h('input', { type: 'password', name: 'dam-token', autocomplete: 'off' });
  const msg = h('div.login-msg');
  const submit = h('button.primary', { type: 'submit' }, 'Sign in');
  const form = h('form.login', {
    on: {
      submit: async (ev) => {
        ev.preventDefault();
        msg.replaceChildren();
        submit.disabled = true;
        const t = token.value.trim();
        auth.set(t, damToken.value.trim());
        try {
          await pim('/v1/products?limit=1', { signIn: true });
        } catch (e) {
          auth.clear();
          submit.disabled = false;
          const p = e instanceof ApiError ? e.problem : { detail: e.message };
          msg.replaceChildren(problemBox(p, e.status === 401 || e.status === 403
            ? 'The product hub did not accept this token' : 'Cannot sign in'));
          return;
        }
        try {
          await dam('/v1/assets?limit=1', { signIn: true });
        } catch (e) {
          // Products still work; say why assets will not.
          sessionStorage.setItem('hub.damWarning', e.status === 401 || e.status === 403
            ? 'The asset store did not accept this token: give its token under "Asset store token".'
            : `The asset store is not reachable (${e.message}).`);
        }
        submit.disabled = false;
        if (!location.hash || location.hash === '#/' || location.hash === '#') location.hash = '#/products';
        else render();
      },
    },
  },
  h('h1', 'Sign in'),
  h('p', 'Paste your API token. An administrator creates tokens with ', h('code', 'POST /v1/tokens'),
    '; on a fresh install the admin token is in ', h('code', 'var/admin.token'), '.'),
  field('Token', token),
  h('details', h('summary', 'Asset store token (if different)'),
    field('Asset store token', damToken, 'Only needed when damd has its own tokens.')),
  submit, msg);
  main.replaceChildren(h('section.narrow', form));
  document.title = 'Sign in · Hub';
  token.focus();
}

setUnauthorizedHandler((base) => {
  // A refused pimd token means signing in again; damd's is reported inline.
  if (!base) {
    auth.clear();
    render();
  }
});

// "Skip to content" moves the focus to the page; followed as a link, its
// #main would be taken for a route.
document.querySelector('a.skip').addEventListener('click', (ev) => {
  ev.preventDefault();
  main.focus();
});

// An image damd cannot render (yet) leaves an empty frame, not a broken icon.
document.addEventListener('error', (ev) => {
  if (ev.target instanceof HTMLImageElement) ev.target.classList.add('broken');
}, true);

// Views need damd's URL: wait for it before the first render.
uiConfig().then(() => {
  window.addEventListener('hashchange', render);
  render();
});
