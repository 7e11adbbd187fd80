// BPKAD: the yearly TPP policy editor (every problem listed before saving; versions with who
// changed what), salaries and sanctions, and the monthly run — compute, warnings that stop a
// careless payment, a lock that states the totals, downloads, a chart of the month per unit,
// corrections with their cause in words.
import * as api from "../api.js";
import { h, replace, field, alertBox, showError, clearErrors, busy, toast, reasonDialog } from "../dom.js";
import { number, rupiah, nip as fmtNip, monthName, todayWib, longDate, percent } from "../format.js";
import { ensureStyles, importPanel, monthPicker, loadUnits, employeePicker, stat, badge } from "./bo.js";
import { counts } from "./bkd_kerja.js";
import { barChart } from "./chart.js";
import { download } from "./transfer.js";

// ---- the policy editor ---------------------------------------------------------------------

const LABEL = {
  base_amounts: "Besaran dasar per kelas jabatan (Rp)", weights_pct: "Bobot (%)",
  cpns_factor_pct: "Faktor CPNS (%)", pph21_pct: "PPh 21 per golongan (%)", bpjs: "BPJS Kesehatan",
  productivity: "Aturan produktivitas", discipline_deductions_pct: "Potongan disiplin per kode (%)", sanctions: "Sanksi disiplin",
  performance: "kinerja", discipline: "disiplin", employee_rate_pct: "iuran pegawai (%)", cap: "batas dasar (Rp)",
  rule: "aturan", combine: "gabungan", max_cut_pct: "potongan maksimum (%)", pns: "PNS", pppk: "PPPK",
};

function flatten(doc, prefix = "", out = {}) {
  for (const [k, v] of Object.entries(doc || {})) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === "object" && !Array.isArray(v)) flatten(v, key, out);
    else out[key] = Array.isArray(v) ? JSON.stringify(v) : String(v);
  }
  return out;
}

function describe(key) {
  return key.split(".").map((p) => LABEL[p] || p).join(" › ");
}

export async function renderKebijakan(container) {
  ensureStyles();
  const year = h("input", { type: "number", min: "2000", max: "2100", value: todayWib().slice(0, 4) });
  const alert = alertBox();
  const formBox = h("div");
  const versions = h("section", { class: "card", id: "policy-versions" });
  replace(container, h("div", { class: "view-head" }, h("h1", { tabindex: "-1" }, "Kebijakan TPP"), field("Tahun", year, { name: "year", className: "inline" })),
    alert, formBox, versions);

  async function load() {
    clearErrors(container, alert);
    let doc;
    try { doc = await api.get(`/api/payroll/policies/${year.value}`); } catch (err) { showError(container, alert, err); return; }
    replace(formBox, editor(doc));
    loadVersions();
  }

  function input(path, value, attrs = {}) {
    const el = h("input", { value: value ?? "", inputmode: "decimal", dataset: { path }, ...attrs });
    return field(attrs.label || describe(path).split(" › ").pop(), el, { name: path });
  }

  function editor(doc) {
    const a = alertBox();
    const kelas = Object.keys(doc.base_amounts).sort((x, y) => Number(x) - Number(y));
    const rule = h("select", { dataset: { path: "productivity.rule" } }, h("option", { value: "linear" }, "Linear (persen menit)"),
      h("option", { value: "bracket" }, "Rentang (tabel)"));
    rule.value = doc.productivity.rule;
    const combine = h("select", { dataset: { path: "sanctions.combine" } }, h("option", { value: "max" }, "terbesar"), h("option", { value: "sum" }, "dijumlah"));
    combine.value = doc.sanctions.combine;
    const brackets = doc.productivity.brackets.map((b, i) => h("div", { class: "grid-2" },
      input(`productivity.brackets.${i}.min_pct`, b.min_pct, { label: `Rentang ${i + 1}: produktivitas ≥ (%)` }),
      input(`productivity.brackets.${i}.pay_pct`, b.pay_pct, { label: "dibayar (%)" })));
    const check = h("button", { type: "button", class: "btn btn-ghost", id: "policy-check" }, "Periksa");
    const save = h("button", { type: "submit", class: "btn btn-primary", id: "policy-save" }, "Simpan versi baru");
    const result = h("div", { role: "status" });
    const form = h("form", { novalidate: true, class: "card", id: "policy-form" },
      h("div", { class: "card-head" }, h("h2", null, `Kebijakan TPP ${doc.year} — versi ${doc.version}`)), a,
      h("h3", null, LABEL.base_amounts), h("div", { class: "policy-grid" }, kelas.map((k) => input(`base_amounts.${k}`, doc.base_amounts[k], { label: `Kelas ${k}` }))),
      // Working days and minutes per day are BKD's work calendar (activity), not TPP policy.
      h("h3", null, "Bobot dan status"), h("div", { class: "policy-grid" },
        input("weights_pct.performance", doc.weights_pct.performance, { label: "Bobot kinerja (%)" }),
        input("weights_pct.discipline", doc.weights_pct.discipline, { label: "Bobot disiplin (%)" }),
        input("cpns_factor_pct", doc.cpns_factor_pct, { label: "Faktor CPNS (%)" })),
      // Where a rule about several inputs (the weights adding up to 100 %) is reported.
      h("div", { class: "field", dataset: { field: "weights_pct" } }, h("p", { class: "field-error", hidden: true })),
      h("h3", null, LABEL.productivity), field("Aturan", rule, { name: "productivity.rule" }), brackets,
      h("h3", null, "PPh 21 (tarif final per golongan, %)"),
      h("div", { class: "policy-grid" }, Object.entries(doc.pph21_pct.pns).map(([g, v]) => input(`pph21_pct.pns.${g}`, v, { label: `PNS golongan ${g}` }))),
      h("details", null, h("summary", null, "PPPK per golongan"), h("div", { class: "policy-grid" },
        Object.entries(doc.pph21_pct.pppk).map(([g, v]) => input(`pph21_pct.pppk.${g}`, v, { label: `PPPK ${g}` })))),
      h("h3", null, LABEL.bpjs), h("div", { class: "policy-grid" },
        input("bpjs.employee_rate_pct", doc.bpjs.employee_rate_pct, { label: "Iuran pegawai (%)" }), input("bpjs.cap", doc.bpjs.cap, { label: "Batas dasar (Rp)" })),
      h("h3", null, LABEL.discipline_deductions_pct), h("div", { class: "policy-grid" },
        Object.entries(doc.discipline_deductions_pct).map(([c, v]) => input(`discipline_deductions_pct.${c}`, v, { label: c }))),
      h("h3", null, LABEL.sanctions), h("div", { class: "policy-grid" }, field("Gabungan beberapa sanksi", combine, { name: "sanctions.combine" }),
        input("sanctions.max_cut_pct", doc.sanctions.max_cut_pct, { label: "Potongan maksimum (%)" })),
      result, h("div", { class: "actions" }, check, save));

    // Every number is checked here first: a word where a number belongs would stop the service's
    // schema before its rules run (weights adding up, brackets in order, …). Those fields are sent
    // with their stored value so the service still judges everything else, and both lists are
    // shown together: every problem at once, before anything is saved.
    const build = () => {
      const out = JSON.parse(JSON.stringify(doc));
      const local = {};
      for (const el of form.querySelectorAll("[data-path]")) {
        const parts = el.dataset.path.split(".");
        let o = out;
        for (const p of parts.slice(0, -1)) o = o[p];
        const last = parts[parts.length - 1];
        const old = o[last];
        const raw = el.value.trim().replace(",", ".");
        if (el.tagName === "SELECT") { o[last] = raw; continue; }
        if (raw === "" || !/^-?\d+(\.\d+)?$/.test(raw)) {
          local[el.dataset.path] = raw === "" ? "Wajib diisi" : "Harus berupa angka";
          continue; // keep the stored value for the service's own check
        }
        o[last] = typeof old === "number" ? Number(raw) : raw;
      }
      return { out, local };
    };
    const send = async (dryRun, button) => {
      clearErrors(form, a);
      replace(result);
      const { out, local } = build();
      const bad = Object.keys(local).length > 0;
      try {
        const saved = await busy(button, dryRun || bad ? "Memeriksa…" : "Menyimpan…", () =>
          api.put(`/api/payroll/policies/${doc.year}${dryRun || bad ? "?dry_run=true" : ""}`, out));
        if (bad) throw Object.assign(new Error("Data tidak valid"), { fields: {} });
        if (dryRun) replace(result, h("p", { class: "ok-line", id: "policy-ok" }, "Tidak ada masalah; kebijakan ini dapat disimpan."));
        else { toast(`Kebijakan ${doc.year} versi ${saved.version} disimpan.`); load(); }
      } catch (err) {
        const fields = { ...(err.fields || {}), ...local };
        showError(form, a, { message: err.message, fields });
        const n = Object.keys(fields).length;
        if (n) replace(result, h("p", { class: "field-error", id: "policy-problems" }, `${n} masalah harus diperbaiki sebelum disimpan (ditandai di setiap isian).`));
      }
    };
    check.addEventListener("click", () => send(true, check));
    form.addEventListener("submit", (ev) => { ev.preventDefault(); send(false, save); });
    return form;
  }

  async function loadVersions() {
    try {
      const body = await api.get(`/api/payroll/policies/${year.value}/versions`);
      const list = body.versions || [];
      replace(versions, h("h2", null, "Riwayat versi"), h("ol", { reversed: true, class: "versions" }, list.map((v, i) => {
        const before = list[i + 1];
        const a = flatten(v.document);
        const b = before ? flatten(before.document) : null;
        const changed = b ? Object.keys({ ...a, ...b }).filter((k) => a[k] !== b[k]) : [];
        const me = api.currentAccount();
        const by = me && me.id === v.created_by ? "Anda" : `akun ${v.created_by}`;
        return h("li", null, h("strong", null, `Versi ${v.version}`), ` — ${String(v.created_at).slice(0, 16).replace("T", " ")} oleh ${by}`,
          b ? (changed.length ? h("ul", { class: "diff" }, changed.slice(0, 30).map((k) => h("li", null, `${describe(k)}: `,
            h("del", null, b[k] ?? "—"), " → ", h("ins", null, a[k] ?? "—")))) : h("p", { class: "muted small" }, "tidak ada perubahan isi"))
            : h("p", { class: "muted small" }, "versi pertama"));
      })));
    } catch (err) { replace(versions, h("p", { class: "muted" }, err.message)); }
  }
  year.addEventListener("change", load);
  await load();
}

// ---- salaries and sanctions ----------------------------------------------------------------

export async function renderGaji(container) {
  ensureStyles();
  const picker = monthPicker();
  const path = () => { const p = picker.value(); return `/api/payroll/salaries/${p.y}/${p.m}/import`; };
  replace(container, h("div", { class: "view-head" }, h("h1", { tabindex: "-1" }, "Gaji dan sanksi"), picker.el),
    importPanel({
      id: "import-salaries", title: "Impor gaji pokok bulan ini", path, summary: counts, accept: ".csv,text/csv",
      describe: "CSV dari aplikasi gaji: nip, gaji_pokok, bpjs_dipotong (boleh kosong: 1 % dari gaji sampai batas).",
      sample: { name: "contoh-gaji.csv", header: ["nip", "gaji_pokok", "bpjs_dipotong"], rows: [["199001012015031001", "4000000", ""]] },
    }).el,
    await sanctionsCard());
}

async function sanctionsCard() {
  const alert = alertBox();
  const who = employeePicker();
  const start = h("input", { type: "date" });
  const end = h("input", { type: "date" });
  const cut = h("select", null, ["25"].map((v) => h("option", { value: v }, `${v} %`)));
  const ref = h("input", { placeholder: "Nomor SK hukuman disiplin" });
  const reason = h("input");
  const go = h("button", { type: "submit", class: "btn btn-primary" }, "Catat sanksi");
  const list = h("div");
  const form = h("form", { novalidate: true }, alert, who.el,
    h("div", { class: "grid-3" }, field("Mulai", start, { name: "start_date" }), field("Sampai", end, { name: "end_date" }), field("Potongan TPP", cut, { name: "cut_pct" })),
    h("div", { class: "grid-2" }, field("Nomor SK", ref, { name: "reference" }), field("Alasan", reason, { name: "reason" })), h("div", { class: "actions" }, go));
  const load = async () => {
    const body = await api.get("/api/payroll/sanctions");
    const rows = (body.sanctions || []).map((s) => {
      const revoke = h("button", { type: "button", class: "btn btn-small btn-reject", hidden: Boolean(s.revoked_at) }, "Cabut");
      revoke.addEventListener("click", async () => {
        const why = await reasonDialog({ title: "Cabut sanksi", label: "Alasan pencabutan", confirm: "Cabut sanksi", danger: true,
          text: "Potongan TPP karena sanksi ini tidak dihitung lagi; bulan yang sudah dikunci dibayar kembali sebagai rapel di bulan berikutnya." });
        if (!why) return;
        try { await busy(revoke, "…", () => api.post(`/api/payroll/sanctions/${s.id}/revoke`, { reason: why })); load(); } catch (err) { toast(err.message, "warn"); }
      });
      return h("tr", null, h("td", null, s.name || s.employee_id), h("td", null, `${longDate(s.start_date)} – ${longDate(s.end_date)}`),
        h("td", { class: "num" }, percent(s.cut_pct)), h("td", null, s.reference), h("td", null, s.revoked_at ? badge("dicabut") : revoke));
    });
    replace(list, rows.length ? h("div", { class: "table-wrap" }, h("table", { class: "table" },
      h("thead", null, h("tr", null, ["Pegawai", "Masa", "Potongan", "SK", ""].map((t) => h("th", { scope: "col" }, t)))), h("tbody", null, rows)))
      : h("p", { class: "empty" }, "Belum ada sanksi."));
  };
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(form, alert);
    try {
      await busy(go, "…", () => api.post("/api/payroll/sanctions", { employee_id: who.value() || "", start_date: start.value || null,
        end_date: end.value || null, cut_pct: cut.value, reference: ref.value, reason: reason.value || null }));
      toast("Sanksi dicatat; bulan yang sudah dikunci dikoreksi lewat rapel.");
      load();
    } catch (err) { showError(form, alert, err); }
  });
  await load().catch(() => {});
  return h("section", { class: "card" }, h("h2", null, "Sanksi disiplin (PP 94/2021)"), form, list);
}

// ---- the monthly run -----------------------------------------------------------------------

// Until payroll sends cause_text, a correction's machine cause in words.
const CAUSE_WORDS = {
  "appeal.decided": "banding dikabulkan", "activity.approved": "kegiatan disetujui setelah dikunci",
  "activity.rejected": "kegiatan ditolak setelah dikunci", "attendance.recorded": "presensi dikoreksi",
  "sanction.recorded": "sanksi disiplin dicatat", "sanction.revoked": "sanksi disiplin dicabut", "salary.changed": "gaji diubah",
};

export function causeText(c) {
  if (c.cause_text) return c.cause_text;
  const t = c.cause && (c.cause.event_type || c.cause.type);
  return CAUSE_WORDS[t] || (t ? "koreksi data" : "koreksi");
}

export async function renderBulanan(container) {
  ensureStyles();
  const picker = monthPicker();
  const units = await loadUnits({ all: true }).catch(() => null);
  const alert = alertBox();
  const head = h("div", { class: "summary", id: "run-summary" });
  const actions = h("div", { class: "actions" });
  const warn = h("section", { class: "card", id: "run-warnings" });
  const body = h("div");
  replace(container, h("div", { class: "view-head" }, h("h1", { tabindex: "-1" }, "Perhitungan TPP bulanan"), picker.el),
    alert, h("section", { class: "card" }, h("div", { class: "card-head" }, h("h2", { id: "run-title" }, ""), actions), head), warn, body);

  let run = null;
  let pending = null;

  async function load() {
    clearErrors(container, alert);
    const p = picker.value();
    document.getElementById("run-title").textContent = `TPP ${monthName(p.y, p.m)}`;
    try {
      run = await api.get(`/api/payroll/runs/${p.y}/${p.m}`);
    } catch (err) {
      run = null;
      if (err.status !== 404) showError(container, alert, err);
    }
    pending = await api.get(`/api/approval/reports/pending?month=${picker.key()}`).catch(() => null);
    draw();
  }

  function computeButton() {
    const b = h("button", { type: "button", class: "btn btn-primary", id: "run-compute" }, run ? "Hitung ulang" : "Hitung");
    b.addEventListener("click", async () => {
      const p = picker.value();
      clearErrors(container, alert);
      try {
        run = await busy(b, "Menghitung…", () => api.post(`/api/payroll/runs/${p.y}/${p.m}/compute`, {}));
        toast(`Dihitung: ${number(run.lines.length)} pegawai.`);
        pending = await api.get(`/api/approval/reports/pending?month=${picker.key()}`).catch(() => null);
        draw();
      } catch (err) { showError(container, alert, err); }
    });
    return b;
  }

  function allWarnings() {
    const list = [...((run && run.warnings) || [])];
    if (pending && pending.pending_entries > 0) {
      list.push({ code: "validations_pending", blocking: true, count: pending.pending_entries,
        message: `${number(pending.pending_entries)} kegiatan masih menunggu validasi atasan${pending.past_deadline ? ` — batas ${longDate(pending.deadline)} sudah lewat` : ` (batas ${longDate(pending.deadline)})`}; menitnya belum dihitung`,
        who: pending.employees.slice(0, 50).map((e) => ({ name: e.name, nip: e.nip, note: `${e.pending_entries} kegiatan` })) });
    }
    return list;
  }

  function draw() {
    const p = picker.value();
    replace(actions);
    if (!run) {
      replace(head, h("p", { class: "empty" }, `Bulan ${monthName(p.y, p.m)} belum dihitung.`));
      replace(warn);
      replace(body);
      actions.append(computeButton());
      return;
    }
    const locked = run.status === "locked";
    replace(head, stat("Status", locked ? "DIKUNCI" : "terbuka", locked ? "st-approved" : "st-returned", "run-status"),
      stat("Pegawai", number(run.totals.employees)), stat("Bruto", rupiah(run.totals.gross)), stat("PPh 21", rupiah(run.totals.pph)),
      stat("BPJS", rupiah(run.totals.bpjs)), stat("Jumlah dibayar", rupiah(run.payable.net), "st-approved", "run-payable"));
    if (!locked) actions.append(computeButton(), lockButton());
    const warnings = allWarnings();
    const checks = [];
    if (locked) {
      const me = api.currentAccount();
      const by = me && me.id === run.locked_by ? "Anda" : `akun ${run.locked_by}`;
      replace(warn, h("p", { class: "locked-note" }, `Dikunci ${String(run.locked_at).slice(0, 16).replace("T", " ")} oleh ${by}. Perubahan data bulan ini menjadi rapel di bulan berikutnya.`));
    } else if (!warnings.length) {
      replace(warn, h("p", { class: "ok-line", id: "no-warnings" }, "Tidak ada peringatan: data bulan ini lengkap."));
    } else {
      replace(warn, h("h2", null, `Periksa sebelum mengunci: ${warnings.length} peringatan`),
        h("p", { class: "muted small" }, "Centang setiap peringatan yang sudah Anda periksa. Tombol Kunci aktif setelah semuanya dicentang."),
        h("ul", { class: "warn-list" }, warnings.map((w) => {
          const box = h("input", { type: "checkbox", value: w.code, dataset: { warning: w.code } });
          checks.push(box);
          box.addEventListener("change", syncLock);
          const who = (w.who || []).map((x) => `${x.name}${x.nip ? ` (${fmtNip(x.nip)})` : ""}${x.note ? `: ${x.note}` : ""}`);
          return h("li", { class: `warn-item${w.blocking ? " blocking" : ""}`, dataset: { code: w.code } },
            h("label", null, box, h("span", null, w.message || w.code, w.count ? h("span", { class: "muted" }, ` [${number(w.count)}]`) : null)),
            who.length ? h("p", { class: "warn-who" }, `${who.join("; ")}${w.count > who.length ? `; dan ${number(w.count - who.length)} lainnya` : ""}`) : null);
        })));
    }
    syncLock();
    replace(body, downloadsCard(), chartCard(), linesCard(), correctionsCard());

    function syncLock() {
      const b = document.getElementById("run-lock");
      if (b) b.disabled = checks.some((c) => !c.checked);
    }

    function lockButton() {
      const b = h("button", { type: "button", class: "btn btn-approve", id: "run-lock" }, "Kunci bulan ini");
      b.addEventListener("click", () => confirmLock(checks.map((c) => c.value)));
      return b;
    }
  }

  function confirmLock(acknowledged) {
    const p = picker.value();
    const dialog = h("dialog", { class: "dialog", "aria-labelledby": "lock-title" });
    const a = alertBox();
    const yes = h("button", { type: "button", class: "btn btn-approve", id: "lock-confirm" }, "Ya, kunci");
    const no = h("button", { type: "button", class: "btn btn-ghost" }, "Batal");
    dialog.append(h("h2", { id: "lock-title" }, `Kunci TPP ${monthName(p.y, p.m)}?`), a,
      h("dl", { class: "facts confirm-totals", id: "lock-totals" },
        h("dt", null, "Pegawai dibayar"), h("dd", null, number(run.payable.employees)),
        h("dt", null, "Bruto"), h("dd", null, rupiah(run.totals.gross)),
        h("dt", null, "PPh 21"), h("dd", null, rupiah(run.totals.pph)),
        h("dt", null, "BPJS"), h("dd", null, rupiah(run.totals.bpjs)),
        h("dt", null, "Rapel (neto)"), h("dd", null, rupiah(run.correction_totals.net)),
        h("dt", null, "Jumlah ditransfer"), h("dd", { class: "strong" }, rupiah(run.payable.net))),
      h("p", null, "Setelah dikunci, bulan ini tidak dapat dihitung ulang. Perubahan data kemudian dibayar sebagai rapel."),
      h("div", { class: "actions" }, no, yes));
    document.body.append(dialog);
    dialog.addEventListener("close", () => dialog.remove());
    no.addEventListener("click", () => dialog.close());
    yes.addEventListener("click", async () => {
      try {
        run = await busy(yes, "Mengunci…", () => api.post(`/api/payroll/runs/${p.y}/${p.m}/lock`, { version: run.version, acknowledged_warnings: acknowledged }));
        dialog.close();
        toast(`TPP ${monthName(p.y, p.m)} dikunci.`);
        draw();
      } catch (err) { showError(dialog, a, err); }
    });
    dialog.showModal();
  }

  function downloadsCard() {
    const p = picker.value();
    const button = (label, path, name, id) => {
      const b = h("button", { type: "button", class: "btn btn-small btn-ghost", id }, label);
      b.addEventListener("click", async () => {
        try { await busy(b, "Mengunduh…", () => download(`/api/payroll/runs/${p.y}/${p.m}/${path}`, name)); } catch (err) { toast(err.message, "warn"); }
      });
      return b;
    };
    const mm = String(p.m).padStart(2, "0");
    return h("section", { class: "card" }, h("h2", null, "Unduhan"),
      h("h3", null, "Daftar pembayaran ke bank"), h("div", { class: "downloads" }, ["csv", "xlsx", "pdf"].map((f) =>
        button(`Daftar pembayaran .${f}`, `disbursement.${f}`, `pembayaran-tpp-${p.y}-${mm}.${f}`, `dl-disbursement-${f}`))),
      h("h3", null, "Rekapitulasi per unit"), h("div", { class: "downloads" }, ["csv", "xlsx", "pdf"].map((f) =>
        button(`Rekap .${f}`, `recap.${f}`, `rekap-tpp-${p.y}-${mm}.${f}`, `dl-recap-${f}`))),
      h("p", { class: "muted small" }, "Slip tiap pegawai: tombol Slip pada daftar di bawah."));
  }

  function chartCard() {
    const byUnit = new Map();
    const bands = [0, 0, 0, 0, 0];
    for (const l of run.lines) {
      const u = byUnit.get(l.unit_id) || { gross: 0, net: 0 };
      u.gross += Number(l.gross);
      u.net += Number(l.net);
      byUnit.set(l.unit_id, u);
      const prod = Number((l.inputs && l.inputs.productivity_pct) || 0);
      bands[prod >= 100 ? 4 : prod >= 90 ? 3 : prod >= 75 ? 2 : prod >= 50 ? 1 : 0] += 1;
    }
    const items = [...byUnit.entries()].map(([id, v]) => ({ label: units ? units.name(id) : id, value: v.gross, value2: v.net }))
      .sort((a, b) => b.value - a.value);
    const short = (v) => `Rp ${number(Math.round(v / 1000))} rb`;
    return h("section", { class: "card" }, h("h2", null, "Bulan ini per unit"),
      items.length ? barChart({ title: "Bruto dan neto per unit", items, format: short, series: ["bruto", "neto"], id: "unit-chart" }) : null,
      barChart({ title: "Sebaran produktivitas pegawai", id: "productivity-chart",
        items: ["< 50 %", "50–74 %", "75–89 %", "90–99 %", "100 %"].map((label, i) => ({ label, value: bands[i] })), format: (v) => `${number(v)} pegawai` }));
  }

  function linesCard() {
    const p = picker.value();
    const lines = [...run.lines].sort((a, b) => a.name.localeCompare(b.name, "id"));
    return h("section", { class: "card" }, h("h2", null, `Baris TPP (${number(lines.length)} pegawai)`),
      h("div", { class: "table-wrap" }, h("table", { class: "table table-money", id: "run-lines" },
        h("thead", null, h("tr", null, ["Nama", "NIP", "Unit", "Produktivitas", "Disiplin", "Bruto", "PPh 21", "BPJS", "Neto", ""].map((t, i) =>
          h("th", { scope: "col", class: i >= 3 && i < 9 ? "num" : null }, t)))),
        h("tbody", null, lines.slice(0, 500).map((l) => {
          const slip = h("button", { type: "button", class: "btn btn-small btn-ghost", "aria-label": `Slip ${l.name}` }, "Slip");
          slip.addEventListener("click", () => download(`/api/payroll/runs/${p.y}/${p.m}/slips/${l.employee_id}.pdf`, `slip-${l.nip}.pdf`).catch((e) => toast(e.message, "warn")));
          return h("tr", null, h("td", { class: "name" }, l.name), h("td", { class: "nowrap" }, fmtNip(l.nip)), h("td", null, units ? units.name(l.unit_id) : l.unit_id),
            h("td", { class: "num" }, percent(l.inputs && l.inputs.productivity_pct)), h("td", { class: "num" }, percent(l.inputs && l.inputs.discipline_pct)),
            ...[l.gross, l.pph, l.bpjs].map((v) => h("td", { class: "num nowrap" }, rupiah(v))), h("td", { class: "num nowrap strong" }, rupiah(l.net)), h("td", null, slip));
        })))));
  }

  function correctionsCard() {
    const cs = run.corrections || [];
    if (!cs.length) return null;
    return h("section", { class: "card" }, h("h2", null, "Koreksi (rapel) dari bulan yang sudah dikunci"),
      h("div", { class: "table-wrap" }, h("table", { class: "table table-money", id: "run-corrections" },
        h("thead", null, h("tr", null, ["Nama", "Untuk bulan", "Sebab", "Bruto", "Neto"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", null, cs.map((c) => h("tr", null, h("td", null, c.name), h("td", null, monthName(c.for_year, c.for_month)),
          h("td", null, causeText(c)), h("td", { class: "num" }, rupiah(c.gross)), h("td", { class: "num strong" }, rupiah(c.net))))))));
  }

  picker.onChange(load);
  await load();
}
