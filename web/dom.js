// DOM building without innerHTML: every piece of server data becomes a text node, so it can never
// become markup. Event handlers are attached with addEventListener (no inline handlers: a strict
// Content-Security-Policy holds).

let uid = 0;

/** A fresh id for label/input pairs. */
export function newId(prefix = "f") {
  uid += 1;
  return `${prefix}-${uid}`;
}

/**
 * h("button", {class: "btn", type: "button", onclick: fn}, "Simpan")
 * Attributes: class, for, dataset {…}, on<event> (function), boolean true/false, others as text.
 * Children: strings/numbers (as text), nodes, arrays, null/undefined/false (skipped).
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [key, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (key.startsWith("on") && typeof value === "function") {
        el.addEventListener(key.slice(2), value);
      } else if (key === "class") {
        el.className = Array.isArray(value) ? value.filter(Boolean).join(" ") : value;
      } else if (key === "for") {
        el.htmlFor = value;
      } else if (key === "dataset") {
        Object.assign(el.dataset, value);
      } else if (key === "value") {
        el.value = value;
      } else if (key === "text") {
        el.textContent = value;
      } else if (value === true) {
        el.setAttribute(key, "");
      } else {
        el.setAttribute(key, String(value));
      }
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function replace(el, ...children) {
  clear(el);
  return append(el, children);
}

/** A labelled form field; the input gets an id, aria-describedby and an error slot for `name`. */
export function field(label, input, { name, hint, className } = {}) {
  const id = input.id || newId(name || "f");
  input.id = id;
  if (name) input.name = name;
  const errId = `${id}-err`;
  const described = [errId];
  let hintEl = null;
  if (hint) {
    hintEl = h("small", { class: "hint", id: `${id}-hint` }, hint);
    described.push(hintEl.id);
  }
  input.setAttribute("aria-describedby", described.join(" "));
  // Once the user changes the input, its error (and the form's summary, when no field error is
  // left) is no longer about what is on screen.
  const forget = () => {
    const slot = document.getElementById(errId);
    if (!slot || slot.hidden) return;
    slot.hidden = true;
    slot.textContent = "";
    input.removeAttribute("aria-invalid");
    const form = input.closest("form");
    if (form && !form.querySelector(".field-error:not([hidden])")) {
      for (const a of form.querySelectorAll(".alert")) a.hidden = true;
    }
  };
  input.addEventListener("input", forget);
  input.addEventListener("change", forget);
  return h(
    "div",
    { class: ["field", className], dataset: { field: name || "" } },
    h("label", { for: id }, label),
    input,
    hintEl,
    h("p", { class: "field-error", id: errId, hidden: true }),
  );
}

/** An alert box for a form's general error (role=alert so screen readers announce it). */
export function alertBox() {
  return h("div", { class: "alert", role: "alert", hidden: true });
}

/** Removes every error shown by showError inside `root`. */
export function clearErrors(root, alertEl) {
  for (const el of root.querySelectorAll(".field-error")) {
    el.textContent = "";
    el.hidden = true;
  }
  for (const el of root.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  if (alertEl) {
    clear(alertEl);
    alertEl.hidden = true;
  }
}

/**
 * Shows an ApiError: the Indonesian message in `alertEl`, each field's message beside the input
 * whose field container has data-field=<name> (fields without an input are listed in the alert).
 * Focuses the first invalid input.
 */
export function showError(root, alertEl, err) {
  clearErrors(root, alertEl);
  const message = (err && err.message) || "Terjadi kesalahan.";
  const loose = [];
  let first = null;
  const fields = (err && err.fields) || {};
  for (const [name, text] of Object.entries(fields)) {
    const short = name.split(".").pop();
    const box = root.querySelector(`[data-field="${cssEscape(name)}"]`) || root.querySelector(`[data-field="${cssEscape(short)}"]`);
    const slot = box && box.querySelector(".field-error");
    if (slot) {
      slot.textContent = text;
      slot.hidden = false;
      const input = box.querySelector("input, select, textarea");
      if (input) {
        input.setAttribute("aria-invalid", "true");
        first = first || input;
      }
    } else {
      loose.push(text); // no input of that name (e.g. credited_minutes: the daily ceiling)
    }
  }
  if (alertEl) {
    append(alertEl, [h("strong", null, message)]);
    if (loose.length) append(alertEl, [h("ul", null, loose.map((t) => h("li", null, t)))]);
    alertEl.hidden = false;
  }
  if (first) first.focus();
  else if (alertEl) alertEl.focus?.();
}

function cssEscape(s) {
  return window.CSS && CSS.escape ? CSS.escape(s) : String(s).replace(/["\\]/g, "\\$&");
}

let toastTimer = null;

/** A short status message (aria-live polite) at the bottom of the page. */
export function toast(message, kind = "ok") {
  const el = document.getElementById("toast");
  if (!el) return;
  el.textContent = message;
  el.className = `toast toast-${kind}`;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    el.hidden = true;
  }, 5000);
}

/** Disables a button while `work` runs, with a busy label. */
export async function busy(button, label, work) {
  const old = button.textContent;
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  if (label) button.textContent = label;
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
    button.textContent = old;
  }
}

/**
 * A modal question with two answers; resolves true when confirmed. `danger` colours the
 * confirming button red. The dialog removes itself when answered.
 */
export function confirmDialog({ title, text, confirm = "Ya", cancel = "Batal", danger = false }) {
  const titleId = newId("cf");
  const yes = h("button", { type: "submit", class: `btn ${danger ? "btn-danger" : "btn-primary"}` }, confirm);
  const no = h("button", { type: "button", class: "btn btn-ghost" }, cancel);
  const form = h("form", { method: "dialog" }, h("h2", { id: titleId }, title),
    text ? h("p", null, text) : null, h("div", { class: "actions" }, no, yes));
  return modal(form, titleId, no, (done) => {
    form.addEventListener("submit", (ev) => { ev.preventDefault(); done(true); });
    return false;
  }, no);
}

/** Shows `form` in a modal <dialog> until `wire(done)` calls done(value) or the person cancels
 *  (the `cancel` button, Escape: the value `wire` returned); resolves that value. */
function modal(form, titleId, cancel, wire, focus) {
  const el = h("dialog", { class: "dialog", "aria-labelledby": titleId }, form);
  document.body.append(el);
  return new Promise((resolve) => {
    const done = (value) => {
      if (el.open) el.close();
      el.remove();
      resolve(value);
    };
    const onCancel = wire(done);
    cancel.addEventListener("click", () => done(onCancel));
    el.addEventListener("cancel", (ev) => { ev.preventDefault(); done(onCancel); });
    el.showModal();
    focus.focus();
  });
}

/**
 * A modal question that needs a written reason (revoking a permission, refusing a request);
 * resolves the reason, or null when cancelled. An empty reason is refused in the dialog itself.
 */
export function reasonDialog({ title, text, label = "Alasan", confirm = "Simpan", cancel = "Batal", danger = false }) {
  const titleId = newId("rs");
  const reason = h("textarea", { rows: "3", maxlength: "500", required: true });
  const problem = h("p", { class: "field-error", role: "alert", hidden: true }, "Alasan wajib diisi.");
  const yes = h("button", { type: "submit", class: `btn ${danger ? "btn-danger" : "btn-primary"}` }, confirm);
  const no = h("button", { type: "button", class: "btn btn-ghost" }, cancel);
  const form = h("form", { method: "dialog", novalidate: true }, h("h2", { id: titleId }, title),
    text ? h("p", null, text) : null, field(label, reason, { name: "reason" }), problem, h("div", { class: "actions" }, no, yes));
  return modal(form, titleId, no, (done) => {
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const value = reason.value.trim();
      if (!value) { problem.hidden = false; reason.focus(); return; }
      done(value);
    });
    return null;
  }, reason);
}

/** Saves a Blob as a file (an authenticated download: the API needs the Authorization header,
 *  which a plain link cannot carry). */
export function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: filename, class: "sr-only" });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 30000);
}

const SVG = "http://www.w3.org/2000/svg";

/** An SVG element (charts are SVG: sizes are attributes, so no inline style is needed under the CSP). */
export function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") el.setAttribute("class", Array.isArray(v) ? v.filter(Boolean).join(" ") : v);
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** A progress bar with its text, for long jobs (bulk decisions). */
export function progressBar(label) {
  const bar = h("progress", { max: "100", value: "0", "aria-label": label });
  const text = h("span", { class: "progress-text", "aria-live": "polite" });
  const el = h("div", { class: "progress", role: "group", "aria-label": label }, bar, text);
  return {
    el,
    set(done, total, message) {
      bar.max = Math.max(1, total);
      bar.value = done;
      text.textContent = message;
    },
  };
}

/**
 * A 24-hour time field ("08:00") the same in every browser: a native time input follows the
 * browser's language and shows 8:00 AM on an English phone. Digits typed get their colon
 * ("0830" → "08:30"); `value` is always HH:MM or what the person is still typing.
 */
export function timeInput(attrs = {}) {
  const el = h("input", { type: "text", inputmode: "numeric", autocomplete: "off", maxlength: "5", placeholder: "jj:mm",
    pattern: "([01][0-9]|2[0-3]):[0-5][0-9]", class: "time-input", ...attrs });
  el.addEventListener("input", (ev) => {
    if (ev.inputType && ev.inputType.startsWith("delete")) return;
    const digits = el.value.replace(/\D/g, "").slice(0, 4);
    if (digits.length >= 3) el.value = `${digits.slice(0, 2)}:${digits.slice(2)}`;
    else if (digits.length === 2 && !el.value.includes(":")) el.value = `${digits}:`;
  });
  el.addEventListener("blur", () => {
    const m = /^(\d{1,2})[:.]?(\d{2})?$/.exec(el.value.trim());
    if (m && Number(m[1]) < 24) {
      el.value = `${m[1].padStart(2, "0")}:${m[2] || "00"}`;
      el.dispatchEvent(new Event("change"));
    }
  });
  return el;
}

/** A month chooser in Indonesian ("Desember 2026"): the last `count` months up to `latest` (YYYY-MM). */
export function monthSelect(latest, { count = 13, value = latest, id } = {}) {
  const MONTHS = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
    "November", "Desember"];
  let [y, m] = latest.split("-").map(Number);
  const options = [];
  for (let i = 0; i < count; i++) {
    const v = `${y}-${String(m).padStart(2, "0")}`;
    options.push(h("option", { value: v }, `${MONTHS[m - 1]} ${y}`));
    m -= 1;
    if (m === 0) { m = 12; y -= 1; }
  }
  const el = h("select", { id }, options);
  if (value) {
    if (![...el.options].some((o) => o.value === value)) {
      const [vy, vm] = value.split("-").map(Number);
      el.append(h("option", { value }, `${MONTHS[vm - 1]} ${vy}`));
    }
    el.value = value;
  }
  return el;
}

/** A native date field with the chosen day spelled out the Indonesian way beside it
 *  ("Selasa, 1 Desember 2026"), whatever language the browser shows the field in. */
export function dateHint(input, spell) {
  const hint = h("small", { class: "hint date-spelled", "aria-live": "polite" });
  const update = () => { hint.textContent = input.value ? spell(input.value) : ""; };
  input.addEventListener("input", update);
  input.addEventListener("change", update);
  update();
  return hint;
}

function isoOf(text) {
  const m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(String(text || "").trim());
  if (!m) return "";
  const [d, mo, y] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = new Date(Date.UTC(y, mo - 1, d));
  if (t.getUTCFullYear() !== y || t.getUTCMonth() !== mo - 1 || t.getUTCDate() !== d) return "";
  return `${y}-${String(mo).padStart(2, "0")}-${String(d).padStart(2, "0")}`;
}

/**
 * A date field shown and typed the Indonesian way (dd/mm/yyyy) in every browser: a native date
 * input follows the browser's language (12/01/2026 on an English phone for 1 December). Digits
 * get their slashes as they are typed ("01122026" → "01/12/2026"). `el.iso` reads and sets the
 * date as YYYY-MM-DD ("" while incomplete or impossible); "change" fires when a whole date is in.
 */
export function dateField(attrs = {}) {
  const el = h("input", { type: "text", inputmode: "numeric", autocomplete: "off", maxlength: "10", placeholder: "hh/bb/tttt",
    class: "date-input", ...attrs });
  let last = "";
  Object.defineProperty(el, "iso", {
    get: () => isoOf(el.value),
    set: (v) => {
      el.value = v ? `${v.slice(8, 10)}/${v.slice(5, 7)}/${v.slice(0, 4)}` : "";
      last = isoOf(el.value);
    },
  });
  const settle = () => {
    const iso = isoOf(el.value);
    if (iso && iso !== last) {
      last = iso;
      el.value = `${iso.slice(8, 10)}/${iso.slice(5, 7)}/${iso.slice(0, 4)}`;
      el.dispatchEvent(new Event("change"));
    } else if (!el.value && last) {
      last = "";
      el.dispatchEvent(new Event("change"));
    }
  };
  el.addEventListener("input", (ev) => {
    if (!(ev.inputType && ev.inputType.startsWith("delete")) && !el.value.includes("/")) {
      const digits = el.value.replace(/\D/g, "").slice(0, 8);
      el.value = [digits.slice(0, 2), digits.slice(2, 4), digits.slice(4)].filter(Boolean).join("/");
    }
    if (el.value.length === 10) settle();
  });
  el.addEventListener("blur", settle);
  el.addEventListener("change", (ev) => { if (ev.isTrusted) ev.stopImmediatePropagation(); }, true);
  return el;
}
