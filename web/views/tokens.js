// #/tokens: an administrator's list of API tokens on both daemons, making
// new ones (each daemon makes its own secret, shown once) and revoking.
import { pim, dam, damUrl, ApiError, may } from '../api.js';
import { h, field, fieldError, clearErrors, problemBox, toast, items } from '../ui.js';

const ROLES = [['merchandiser', 'merchandiser: products, imports'], ['designer', 'designer: assets'],
  ['reader', 'reader: read only'], ['admin', 'admin: everything, tokens too']];

export async function tokensPage() {
  const notAdmin = () => h('section', h('h1', 'Tokens'), h('p', 'Only an administrator manages tokens.'));
  if (!may('tokens')) return notAdmin();
  let mine;
  let theirs;
  try {
    [mine, theirs] = await Promise.all([
      pim('/v1/tokens').then(items),
      dam('/v1/tokens').then(items).catch((e) => e),
    ]);
  } catch (e) {
    if (e instanceof ApiError && e.status === 403) return notAdmin();
    throw e;
  }
  const damError = theirs instanceof Error ? theirs : null;
  const names = () => [...new Set([...mine.map((t) => t.name), ...(damError ? [] : theirs.map((t) => t.name))])].sort();
  const roleIn = (list, n) => (Array.isArray(list) ? (list.find((t) => t.name === n) || {}).role : undefined);

  const secrets = h('div.secrets', { 'aria-live': 'polite' });
  // (escaped "-": browsers read pattern with the v flag, where a bare one is an error)
  const name = h('input', { name: 'token-name', required: true, pattern: '[A-Za-z0-9_.\\-]+', autocomplete: 'off' });
  const role = h('select', { name: 'token-role' }, ROLES.map(([v, l]) => h('option', { value: v }, l)));
  const create = h('form.token-new', {
    on: {
      submit: async (ev) => {
        ev.preventDefault();
        const body = { name: name.value.trim(), role: role.value };
        clearErrors(create);
        secrets.replaceChildren();
        // the daemons replace a token of the same name (its old secret stops working)
        if (names().includes(body.name)) {
          fieldError(name, `There already is a token named ${body.name}. Revoke it first, or choose another name.`);
          name.focus();
          return;
        }
        try {
          const a = await pim('/v1/tokens', { method: 'POST', json: body });
          let b = null;
          let bErr = null;
          try {
            b = await dam('/v1/tokens', { method: 'POST', json: body });
          } catch (e) {
            bErr = e;
          }
          secrets.replaceChildren(h('div.card',
            h('p', h('strong', `Token "${a.name}" (${a.role}) made.`), ' Copy the secrets now: they are not shown again.'),
            h('dl.facts', h('dt', 'Product hub'), h('dd', h('code.secret', { dataset: { daemon: 'pimd' } }, a.token)),
              h('dt', 'Asset store'), h('dd', b ? h('code.secret', { dataset: { daemon: 'damd' } }, b.token)
                : h('span.bad', `not made: ${bErr.message}`))),
            h('p.muted', 'Sign in with the product hub secret and give the asset store one under "Asset store token".')));
          mine.push({ name: a.name, role: a.role });
          if (b && !damError) theirs.push({ name: b.name, role: b.role });
          tbody.replaceChildren(...names().map(row));
          toast(`Made token ${a.name}`);
        } catch (e) {
          secrets.replaceChildren(problemBox(e.problem || { detail: e.message }, 'No token was made'));
        }
      },
    },
  }, h('div.grid', field('Name', name, 'Letters, digits, - _ .'), field('Role', role)),
  h('button.primary', { type: 'submit' }, 'Make token'));

  const row = (n) => h('tr', { dataset: { token: n } },
    h('td', n), h('td', roleIn(mine, n) || h('span.muted', '—')), h('td', damError ? '?' : roleIn(theirs, n) || h('span.muted', '—')),
    h('td', n === 'admin' ? h('span.muted', 'bootstrap') : h('button.small.danger', {
      type: 'button',
      on: {
        click: async (ev) => {
          if (!window.confirm(`Revoke ${n}? Whoever uses it is signed out.`)) return;
          ev.target.disabled = true;
          const path = `/v1/tokens/${encodeURIComponent(n)}`;
          const out = await Promise.allSettled([
            roleIn(mine, n) ? pim(path, { method: 'DELETE' }) : null,
            !damError && roleIn(theirs, n) ? dam(path, { method: 'DELETE' }) : null]);
          const failed = out.filter((o) => o.status === 'rejected');
          if (failed.length) {
            ev.target.disabled = false;
            secrets.replaceChildren(problemBox(failed[0].reason.problem || { detail: failed[0].reason.message }, `Cannot revoke ${n}`));
            return;
          }
          toast(`Revoked ${n}`);
          window.dispatchEvent(new HashChangeEvent('hashchange'));
        },
      },
    }, 'Revoke')));
  const tbody = h('tbody', names().map(row));

  return h('section', h('h1', 'Tokens'),
    h('p.muted', 'People and programs sign in with bearer tokens. Each daemon keeps its own; a token made here is made on both.'),
    damError ? problemBox(damError.problem || { detail: damError.message }, `The asset store at ${damUrl()} cannot list its tokens`) : null,
    h('table.list.tokens', h('thead', h('tr', h('th', 'Name'), h('th', 'Role on the product hub'), h('th', 'Role on the asset store'), h('th', h('span.sr-only', 'Actions')))),
      tbody),
    h('h2', 'New token'), create, secrets);
}
