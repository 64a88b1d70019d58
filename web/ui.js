// Small DOM helpers shared by the views: element building, problems shown
// next to what they name, toasts, formatting.

// h('div.card#x', {attrs, on: {click}}, children…): an element. Attributes
// whose value is false/null/undefined are left out; children may be strings,
// nodes, arrays or null.
export function h(spec, attrs, ...children) {
  const m = /^([a-z0-9-]+)?((?:[.#][\w-]+)*)$/i.exec(spec);
  const el = document.createElement((m && m[1]) || 'div');
  if (m && m[2]) {
    for (const part of m[2].match(/[.#][\w-]+/g)) {
      if (part[0] === '.') el.classList.add(part.slice(1));
      else el.id = part.slice(1);
    }
  }
  if (attrs && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k === 'on') for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    else if (k === 'class') el.className = [el.className, v].filter(Boolean).join(' ');
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value' || k === 'checked' || k === 'selected' || k === 'disabled') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

let uid = 0;
// A unique id for label/for pairs.
export function newId(prefix = 'f') {
  uid += 1;
  return `${prefix}-${uid}`;
}

// A labelled form field around a control; hint and error slots below it.
export function field(label, control, hint) {
  if (!control.id) control.id = newId();
  const err = h('p.field-error', { id: `${control.id}-err`, hidden: true, role: 'alert' });
  control.setAttribute('aria-describedby', err.id);
  return h('div.field', h('label', { for: control.id }, label), control,
    hint ? h('p.hint', hint) : null, err);
}

// Shows a message in the error slot of the field holding control.
export function fieldError(control, message) {
  const wrap = control.closest('.field, .value-row, .attr') || control.parentElement;
  let slot = wrap.querySelector(':scope > .field-error');
  if (!slot) {
    slot = h('p.field-error', { role: 'alert' });
    wrap.append(slot);
  }
  slot.hidden = false;
  slot.textContent = slot.textContent ? `${slot.textContent}; ${message}` : message;
  wrap.classList.add('invalid');
  control.setAttribute('aria-invalid', 'true');
}

export function clearErrors(root) {
  for (const s of root.querySelectorAll('.field-error')) { s.textContent = ''; s.hidden = true; }
  for (const w of root.querySelectorAll('.invalid')) w.classList.remove('invalid');
  for (const c of root.querySelectorAll('[aria-invalid]')) c.removeAttribute('aria-invalid');
}

// A box that lists a problem (RFC 9457) and its field-level errors.
export function problemBox(problem, intro) {
  const errs = (problem && problem.errors) || [];
  return h('div.problem', { role: 'alert' },
    h('p', h('strong', intro || problem.title || 'Request failed'),
      problem.detail && problem.detail !== intro ? ` — ${problem.detail}` : ''),
    errs.length ? h('ul', errs.map((e) => h('li',
      e.path ? h('code', e.path) : null, e.line ? `line ${e.line}` : null,
      e.path || e.line ? ': ' : '', e.message || e.code))) : null);
}

export function toast(message, kind = 'ok') {
  const box = document.getElementById('toasts');
  const t = h(`div.toast.${kind}`, message);
  box.append(t);
  setTimeout(() => t.remove(), kind === 'error' ? 8000 : 3500);
}

export function fmtBytes(n) {
  if (n === null || n === undefined) return '';
  const u = ['B', 'KB', 'MB', 'GB'];
  let i = 0;
  let v = Number(n);
  while (v >= 1024 && i < u.length - 1) { v /= 1024; i += 1; }
  return `${i ? v.toFixed(1) : v} ${u[i]}`;
}

export function fmtTime(s) {
  if (!s) return '';
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? String(s) : d.toLocaleString();
}

// A collection answer's items, whether {items:[…]} or a bare array.
export function items(j) {
  if (Array.isArray(j)) return j;
  if (j && Array.isArray(j.items)) return j.items;
  return [];
}

export function spinner(text = 'Loading…') {
  return h('p.muted.loading', { role: 'status' }, text);
}
