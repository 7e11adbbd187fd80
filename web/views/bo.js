// Pieces every back-office page (BKD, Bagian Organisasi, BPKAD) is built of: the page's own
// stylesheet, the import panel (preview, every bad row by line, progress, result, sample file),
// a server-paged list, the unit tree, a month picker, an employee search.
import * as api from "../api.js";
import { h, replace, field, alertBox, showError, clearErrors, busy, toast } from "../dom.js";
import { MONTHS, number, nip as fmtNip, todayWib } from "../format.js";
import { upload, saveSample } from "./transfer.js";

/** The back-office stylesheet, added once (a <link> to our own origin: style-src 'self'). */
export function ensureStyles() {
  if (document.getElementById("bo-css")) return;
  document.head.append(h("link", { rel: "stylesheet", href: "/views/backoffice.css", id: "bo-css" }));
}

export function card(title, ...children) {
  return h("section", { class: "card" }, h("h2", null, title), ...children);
}

export function stat(label, value, cls = "", id) {
  return h("div", { class: `stat ${cls}`, id }, h("span", { class: "stat-label" }, label),
    h("strong", { class: "stat-value" }, value));
}

// ---- month picker --------------------------------------------------------------------------

/** {el, value() → {y, m}, onChange(fn)}: year and month, default the previous month (the one
 *  that is being closed in the back office) unless `current` is set. */
export function monthPicker({ current = false, label = "Periode" } = {}) {
  const today = todayWib();
  let y = Number(today.slice(0, 4));
  let m = Number(today.slice(5, 7));
  if (!current) {
    m -= 1;
    if (m === 0) { m = 12; y -= 1; }
  }
  const year = h("input", { type: "number", min: "2000", max: "2100", value: String(y), inputmode: "numeric" });
  const month = h("select", null, MONTHS.map((name, i) => h("option", { value: String(i + 1) }, name)));
  month.value = String(m);
  const el = h("div", { class: "period", role: "group", "aria-label": label },
    field("Tahun", year, { name: "year", className: "inline" }),
    field("Bulan", month, { name: "month", className: "inline" }));
  return {
    el,
    value: () => ({ y: Number(year.value), m: Number(month.value) }),
    key: () => `${year.value}-${String(month.value).padStart(2, "0")}`,
    onChange: (fn) => { year.addEventListener("change", fn); month.addEventListener("change", fn); },
  };
}

// ---- the unit tree -------------------------------------------------------------------------

/** Units from organization with helpers: label, the units below one (inclusive), options. */
export async function loadUnits({ all = false } = {}) {
  const body = await api.get(`/api/organization/units${all ? "?status=all" : ""}`);
  const units = body.units || [];
  const byId = new Map(units.map((u) => [u.id, u]));
  const children = new Map();
  for (const u of units) {
    const k = u.parent_id || "";
    if (!children.has(k)) children.set(k, []);
    children.get(k).push(u);
  }
  for (const list of children.values()) list.sort((a, b) => a.name.localeCompare(b.name, "id"));
  const below = (id) => {
    const out = [];
    const walk = (u) => { out.push(u.id); (children.get(u.id) || []).forEach(walk); };
    if (byId.has(id)) walk(byId.get(id));
    return out;
  };
  const ordered = [];
  const walk = (u, depth) => { ordered.push({ unit: u, depth }); (children.get(u.id) || []).forEach((c) => walk(c, depth + 1)); };
  (children.get("") || []).forEach((u) => walk(u, 0));
  for (const u of units) if (u.parent_id && !byId.has(u.parent_id)) walk(u, 0);
  return {
    units, byId, children, below, ordered,
    name: (id) => (byId.get(id) ? byId.get(id).name : id || "—"),
    options: (empty = "Semua unit") => [h("option", { value: "" }, empty),
      ...ordered.map(({ unit, depth }) => h("option", { value: unit.id }, `${"— ".repeat(depth)}${unit.name}`))],
  };
}

// ---- server-paged list ---------------------------------------------------------------------

/**
 * A table whose rows come page by page from a list endpoint of the paging contract
 * ({items, total, next_cursor}). `url(cursor)` builds the request; `row(item)` a <tr>.
 */
export function pagedTable({ columns, row, empty = "Tidak ada data.", id, caption }) {
  const tbody = h("tbody");
  const info = h("p", { class: "muted small", role: "status" });
  const more = h("button", { type: "button", class: "btn btn-ghost", hidden: true }, "Muat berikutnya");
  const alert = alertBox();
  const table = h("div", { class: "table-wrap" }, h("table", { class: "table", id },
    caption ? h("caption", { class: "sr-only" }, caption) : null,
    h("thead", null, h("tr", null, columns.map((c) => h("th", { scope: "col", class: c.num ? "num" : null }, c.label)))),
    tbody));
  const el = h("div", { class: "paged" }, alert, table, h("div", { class: "paged-foot" }, info, more));
  let url = null;
  let cursor = null;
  let shown = 0;
  let seq = 0;
  let lastBody = null;

  async function load(reset) {
    const mine = ++seq;
    if (reset) { cursor = null; shown = 0; replace(tbody); }
    clearErrors(el, alert);
    tbody.setAttribute("aria-busy", "true");
    try {
      const body = await api.get(url(cursor));
      if (mine !== seq) return null;
      lastBody = body;
      const items = body.items || [];
      tbody.append(...items.map(row));
      shown += items.length;
      cursor = body.next_cursor;
      more.hidden = !cursor;
      info.textContent = body.total === 0 ? empty : `Menampilkan ${number(shown)} dari ${number(body.total)}`;
      return body;
    } catch (err) {
      if (mine === seq) showError(el, alert, err);
      return null;
    } finally {
      tbody.removeAttribute("aria-busy");
    }
  }
  more.addEventListener("click", () => busy(more, "Memuat…", () => load(false)));
  return {
    el,
    show: (makeUrl) => { url = makeUrl; return load(true); },
    reload: () => load(true),
    body: () => lastBody,
  };
}

// ---- import panel --------------------------------------------------------------------------

/**
 * Upload a CSV/XLSX to an import endpoint: "Periksa" sends it with ?dry_run=true (nothing is
 * stored; every bad row listed by line), "Impor" stores it; a progress bar while it is sent, the
 * result after. `sample` = {name, header, rows} offered as "Unduh contoh berkas".
 */
export function importPanel({ title, path, describe, sample, accept = ".csv,.xlsx,text/csv", summary, id, onDone }) {
  const input = h("input", { type: "file", accept, required: true });
  const check = h("button", { type: "button", class: "btn btn-ghost" }, "Periksa (pratinjau)");
  const send = h("button", { type: "button", class: "btn btn-primary" }, "Impor");
  const progress = h("progress", { max: "100", value: "0", hidden: true, "aria-label": "Kemajuan unggah" });
  const phase = h("span", { class: "muted small", role: "status" });
  const alert = alertBox();
  const out = h("div", { class: "import-out", "aria-live": "polite" });
  const sampleBtn = sample ? h("button", { type: "button", class: "btn btn-small btn-ghost" }, "Unduh contoh berkas") : null;
  const el = h("section", { class: "card import", id },
    h("div", { class: "card-head" }, h("h2", null, title), sampleBtn),
    describe ? h("p", { class: "muted small" }, describe) : null,
    h("form", { novalidate: true, class: "import-form" },
      field("Berkas (CSV atau XLSX)", input, { name: "file" }),
      h("div", { class: "actions" }, check, send)),
    h("div", { class: "progress-line" }, progress, phase),
    alert, out);
  if (sampleBtn) sampleBtn.addEventListener("click", () => saveSample(sample.name, sample.header, sample.rows));

  async function run(dryRun, button) {
    clearErrors(el, alert);
    replace(out);
    const file = input.files && input.files[0];
    if (!file) {
      showError(el, alert, { message: "Pilih berkas terlebih dahulu.", fields: { file: "Wajib diisi" } });
      return;
    }
    const url = typeof path === "function" ? path() : path;
    if (!url) return;
    progress.hidden = false;
    progress.value = 0;
    phase.textContent = `Mengunggah ${file.name}…`;
    try {
      const result = await busy(button, dryRun ? "Memeriksa…" : "Mengimpor…", () =>
        upload(`${url}${url.includes("?") ? "&" : "?"}${dryRun ? "dry_run=true" : ""}`.replace(/[?&]$/, ""), file, {
          onProgress: (f) => {
            progress.value = Math.round(f * 100);
            if (f >= 1) phase.textContent = "Berkas terkirim; server memeriksa setiap baris…";
          },
        }));
      progress.value = 100;
      phase.textContent = "";
      progress.hidden = true;
      replace(out, resultBox(result, dryRun));
      if (!dryRun) {
        toast(`${title}: berhasil diimpor.`);
        if (onDone) onDone(result);
      }
    } catch (err) {
      progress.hidden = true;
      phase.textContent = "";
      showError(el, alert, { message: err.message, fields: {} });
      replace(out, errorRows(err));
    }
  }

  function resultBox(result, dryRun) {
    const facts = summary ? summary(result) : Object.entries(result).filter(([, v]) => typeof v === "number");
    return h("div", { class: dryRun ? "notice ok-box" : "ok-box", role: "status", "data-result": dryRun ? "preview" : "stored" },
      h("strong", null, dryRun ? "Pratinjau: berkas ini dapat diimpor (belum ada yang disimpan)." : "Impor selesai."),
      h("ul", null, facts.map(([k, v]) => h("li", null, `${k}: ${number(v)}`))));
  }

  check.addEventListener("click", () => run(true, check));
  send.addEventListener("click", () => run(false, send));
  return { el };
}

/** Every bad row of a refused import, by line (the service lists them all at once). */
export function errorRows(err) {
  let rows = Array.isArray(err.rows) ? err.rows : [];
  if (!rows.length && err.fields) {
    // Services that key problems as "lines.<n>.<col>", "rows.<n>.<col>" or "<n>:<col>".
    rows = Object.entries(err.fields).map(([k, message]) => {
      const m = /^(?:lines|rows)\.(\d+)\.(.+)$/.exec(k) || /^(\d+):(.+)$/.exec(k);
      return m ? { line: Number(m[1]), field: m[2], message } : { line: null, field: k, message };
    });
  }
  if (!rows.length) return null;
  rows = [...rows].sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  return h("div", { class: "table-wrap" },
    h("p", { class: "strong" }, `${number(rows.length)} kesalahan pada ${number(new Set(rows.map((r) => r.line)).size)} baris:`),
    h("table", { class: "table error-rows" },
      h("thead", null, h("tr", null, h("th", { scope: "col", class: "num" }, "Baris"), h("th", { scope: "col" }, "Kolom"),
        h("th", { scope: "col" }, "Masalah"))),
      h("tbody", null, rows.map((r) => h("tr", null, h("td", { class: "num" }, r.line ?? "—"), h("td", null, r.field || ""),
        h("td", null, r.message || ""))))));
}

// ---- employee search -----------------------------------------------------------------------

/** A search box over identity's paged list with a select of the matches. value() → id. */
export function employeePicker(label = "Pegawai") {
  const q = h("input", { type: "search", placeholder: "Nama atau NIP", autocomplete: "off" });
  const pick = h("select", null, h("option", { value: "" }, "— cari dulu —"));
  let seq = 0;
  let timer = null;
  q.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const mine = ++seq;
      const text = q.value.trim();
      if (text.length < 2) return;
      try {
        const body = await api.get(`/api/identity/employees?limit=20&active=true&q=${encodeURIComponent(text)}`);
        if (mine !== seq) return;
        replace(pick, h("option", { value: "" }, body.total ? `— ${number(body.total)} ditemukan —` : "— tidak ada —"),
          (body.items || []).map((e) => h("option", { value: e.id }, `${e.name} (${fmtNip(e.nip)})`)));
        if (body.items && body.items.length === 1) pick.value = body.items[0].id;
      } catch { /* the form shows the error when it is sent */ }
    }, 250);
  });
  const el = h("div", { class: "grid-2 picker" }, field(`Cari ${label.toLowerCase()}`, q, { name: "employee_q" }),
    field(label, pick, { name: "employee_id" }));
  return { el, value: () => pick.value, search: q, select: pick };
}

export function badge(text, cls) {
  return h("span", { class: `badge ${cls || "st-draft"}` }, text);
}
