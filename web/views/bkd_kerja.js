// BKD's daily tools: imports (employees, placements), the work calendar of a year on a month grid,
// and attendance (the device file, leave and duty codes, closing a day, the month per unit).
import * as api from "../api.js";
import { h, replace, field, alertBox, showError, clearErrors, busy, toast } from "../dom.js";
import { MONTHS, number, nip as fmtNip, todayWib, percent } from "../format.js";
import { ensureStyles, importPanel, loadUnits, monthPicker, pagedTable, employeePicker } from "./bo.js";
import { saveCsv } from "./transfer.js";

const LABELS = { rows: "Baris", employees: "Pegawai", placements: "Penempatan", placements_ended: "Penempatan diakhiri",
  changed: "Hari berubah", unchanged: "Tidak berubah", events: "Dikirim ke BPKAD", rejected: "Ditolak", duties: "Uraian tugas",
  imported: "Gaji tercatat" };
export const counts = (result) => Object.entries(LABELS).filter(([k]) => typeof result[k] === "number").map(([k, l]) => [l, result[k]]);

// ---- imports ---------------------------------------------------------------------------------

export async function renderImpor(container) {
  ensureStyles();
  replace(container, h("h1", { tabindex: "-1" }, "Impor data pegawai"),
    h("p", { class: "muted" }, "Periksa dulu: pratinjau memeriksa setiap baris tanpa menyimpan apa pun. Satu baris salah, tidak ada yang disimpan."),
    importPanel({
      id: "import-employees", title: "Impor pegawai", path: "/api/identity/employees/import", summary: counts,
      describe: "Kolom: nip, name, employee_kind (PNS/PPPK), status (CPNS/PNS/PPPK), golongan; boleh juga bank_account, npwp, position_code, placement_kind, start_date, end_date.",
      sample: { name: "contoh-impor-pegawai.csv",
        header: ["nip", "name", "employee_kind", "status", "golongan", "bank_account", "npwp", "position_code", "placement_kind", "start_date", "end_date"],
        rows: [["199001012015031001", "Contoh Pegawai, S.T.", "PNS", "PNS", "III/a", "0012345678", "", "KODE-JABATAN", "definitive", "2026-01-01", ""]] },
    }).el,
    importPanel({
      id: "import-placements", title: "Impor penempatan", path: "/api/identity/placements/import", summary: counts,
      describe: "Kolom: nip, position_code, start_date; boleh juga kind (definitive/plt) dan end_date. Baris diterapkan berurutan.",
      sample: { name: "contoh-impor-penempatan.csv", header: ["nip", "position_code", "start_date", "kind", "end_date"],
        rows: [["199001012015031001", "KODE-JABATAN", "2026-01-01", "definitive", ""]] },
    }).el);
}

// ---- the work calendar -----------------------------------------------------------------------

export async function renderKalender(container) {
  ensureStyles();
  const yearInput = h("input", { type: "number", min: "2000", max: "2100", value: todayWib().slice(0, 4) });
  const alert = alertBox();
  const grid = h("div", { class: "cal-grid", id: "calendar-grid" });
  const status = h("p", { role: "status", id: "calendar-status" });
  const save = h("button", { type: "button", class: "btn btn-primary", id: "calendar-save" }, "Simpan kalender");
  const editor = h("div", { class: "inline-form" });
  let doc = null;
  replace(container, h("div", { class: "view-head" }, h("h1", { tabindex: "-1" }, "Kalender kerja"),
    field("Tahun", yearInput, { name: "year", className: "inline" })),
  h("section", { class: "card" }, alert, status,
    h("div", { class: "legend" }, h("span", null, "hari kerja"), h("span", { class: "lg-off" }, "akhir pekan"),
      h("span", { class: "lg-holiday" }, "libur nasional"), h("span", { class: "lg-leave" }, "cuti bersama")),
    h("p", { class: "muted small" }, "Pilih tanggal untuk menjadikannya libur, cuti bersama, atau hari kerja lagi."),
    editor, grid, h("div", { class: "actions" }, save)));

  async function load() {
    clearErrors(container, alert);
    try {
      doc = await api.get(`/api/activity/calendar/${yearInput.value}`);
    } catch (err) { showError(container, alert, err); return; }
    draw();
  }

  function kindOf(iso) {
    if (doc.holidays.some((x) => x.date === iso)) return "holiday";
    if (doc.collective_leave.some((x) => x.date === iso)) return "leave";
    const dow = new Date(`${iso}T00:00:00Z`).getUTCDay() || 7;
    return doc.working_weekdays.includes(dow) ? "work" : "off";
  }

  function draw() {
    const y = Number(yearInput.value);
    const days = Object.values(doc.working_days || {}).reduce((a, b) => a + b, 0);
    status.textContent = doc.is_default
      ? `Kalender ${y} BELUM ditetapkan: yang tampil adalah bawaan (Senin–Jumat dikurangi libur nasional bertanggal tetap; libur lain dan cuti bersama belum ada).`
      : `Kalender ${y} versi ${doc.version}, ${number(days)} hari kerja setahun.`;
    status.className = doc.is_default ? "notice" : "ok-line";
    replace(grid, MONTHS.map((name, mi) => {
      const first = new Date(Date.UTC(y, mi, 1));
      const lead = (first.getUTCDay() + 6) % 7;
      const count = new Date(Date.UTC(y, mi + 1, 0)).getUTCDate();
      const cells = [...["Sen", "Sel", "Rab", "Kam", "Jum", "Sab", "Min"].map((d) => h("span", { class: "dow" }, d)),
        ...Array.from({ length: lead }, () => h("span"))];
      for (let d = 1; d <= count; d++) {
        const iso = `${y}-${String(mi + 1).padStart(2, "0")}-${String(d).padStart(2, "0")}`;
        const kind = kindOf(iso);
        const named = [...doc.holidays, ...doc.collective_leave].find((x) => x.date === iso);
        const b = h("button", { type: "button", class: `cal-day ${kind === "work" ? "" : kind}`, dataset: { date: iso },
          title: named ? named.name : "", "aria-label": `${d} ${name}${named ? `: ${named.name}` : ""}` }, String(d));
        b.addEventListener("click", () => edit(iso, named));
        cells.push(b);
      }
      return h("div", { class: "cal-month" }, h("h3", null, name, h("span", { class: "muted small" },
        `${doc.working_days[String(mi + 1).padStart(2, "0")] ?? "—"} hari`)), h("div", { class: "cal-days" }, cells));
    }));
  }

  function edit(iso, named) {
    const name = h("input", { value: named ? named.name : "", placeholder: "mis. Hari Raya Idul Fitri" });
    const kind = h("select", null, h("option", { value: "holiday" }, "Libur nasional"), h("option", { value: "leave" }, "Cuti bersama"),
      h("option", { value: "work" }, "Hari kerja biasa"));
    kind.value = doc.collective_leave.some((x) => x.date === iso) ? "leave" : named ? "holiday" : "holiday";
    const ok = h("button", { type: "button", class: "btn btn-ghost" }, "Terapkan");
    ok.addEventListener("click", () => {
      doc.holidays = doc.holidays.filter((x) => x.date !== iso);
      doc.collective_leave = doc.collective_leave.filter((x) => x.date !== iso);
      const label = name.value.trim() || (kind.value === "leave" ? "Cuti bersama" : "Hari libur");
      if (kind.value === "holiday") doc.holidays.push({ date: iso, name: label });
      if (kind.value === "leave") doc.collective_leave.push({ date: iso, name: label });
      doc.holidays.sort((a, b) => a.date.localeCompare(b.date));
      doc.collective_leave.sort((a, b) => a.date.localeCompare(b.date));
      replace(editor, h("span", { class: "muted small" }, `${iso} diubah — belum disimpan.`));
      draw();
    });
    replace(editor, h("strong", null, iso), field("Jenis", kind, { name: "kind", className: "inline" }),
      field("Keterangan", name, { name: "name", className: "inline" }), ok);
    name.focus();
  }

  save.addEventListener("click", async () => {
    clearErrors(container, alert);
    try {
      const r = await busy(save, "Menyimpan…", () => api.put(`/api/activity/calendar/${yearInput.value}`, doc));
      toast(r.changed ? `Kalender ${yearInput.value} disimpan (versi ${r.version}).` : "Tidak ada perubahan.");
      await load();
    } catch (err) { showError(container, alert, err); }
  });
  yearInput.addEventListener("change", load);
  await load();
}

// ---- attendance ------------------------------------------------------------------------------

export async function renderPresensi(container) {
  ensureStyles();
  const units = await loadUnits().catch(() => null);
  const picker = monthPicker({ current: true });
  const unit = h("select", null, units ? units.options() : []);
  const table = pagedTable({
    id: "attendance-units", caption: "Presensi bulan ini per pegawai",
    columns: [{ label: "Nama" }, { label: "NIP" }, { label: "Unit" }, { label: "Hari tercatat", num: true }, { label: "Terlambat", num: true },
      { label: "Pulang cepat", num: true }, { label: "TK", num: true }, { label: "Izin/cuti", num: true }, { label: "Disiplin", num: true }],
    row: (i) => h("tr", null, h("td", { class: "name" }, i.name), h("td", { class: "nowrap" }, fmtNip(i.nip)),
      h("td", null, i.post ? i.post.unit_name || "—" : "—"), ...[i.recorded_days, i.late_days, i.early_days, i.absent_days, i.excused_days]
        .map((n) => h("td", { class: "num" }, number(n))), h("td", { class: "num" }, percent(i.discipline_pct))),
  });
  const totals = h("p", { class: "muted", role: "status" });
  const show = async () => {
    const body = await table.show((c) => `/api/activity/reports/attendance?month=${picker.key()}&limit=50${unit.value ? `&unit_id=${unit.value}` : ""}${c ? `&cursor=${c}` : ""}`);
    if (body) {
      const t = body.totals;
      totals.textContent = `${number(t.employees)} pegawai · ${number(t.recorded_days)} hari tercatat · terlambat ${number(t.late_days)} · pulang cepat ${number(t.early_days)} · TK ${number(t.absent_days)}`;
    }
  };
  picker.onChange(show);
  unit.addEventListener("change", show);

  replace(container, h("h1", { tabindex: "-1" }, "Presensi"),
    importPanel({
      id: "import-attendance", title: "Unggah berkas mesin presensi", path: "/api/activity/attendance/import", summary: counts,
      accept: ".csv,text/csv",
      describe: "CSV dari mesin sidik jari: nip, date, check_in, check_out, code (kosong, atau kode cuti/dinas). Mengunggah berkas yang sama lagi tidak mengubah apa pun.",
      sample: { name: "contoh-presensi.csv", header: ["nip", "date", "check_in", "check_out", "code"],
        rows: [["199001012015031001", todayWib(), "07:25", "16:05", ""], ["199001012015031002", todayWib(), "", "", "SAKIT"]] },
      onDone: show,
    }).el,
    leaveCard(), closeDayCard(),
    h("section", { class: "card" }, h("div", { class: "card-head" }, h("h2", null, "Presensi sebulan per unit"),
      h("div", { class: "inline-form" }, picker.el, field("Unit", unit, { name: "unit_id", className: "inline" }))), totals, table.el));
  await show();
}

function leaveCard() {
  const alert = alertBox();
  const who = employeePicker();
  const code = h("select", null, [["CUTI", "Cuti tahunan"], ["SAKIT", "Sakit"], ["DL", "Dinas luar"], ["TB", "Tugas belajar"],
    ["CB", "Cuti besar"], ["CM", "Cuti melahirkan"], ["CAP", "Cuti alasan penting"], ["DIKLAT", "Diklat"]]
    .map(([v, l]) => h("option", { value: v }, `${v} — ${l}`)));
  const start = h("input", { type: "date", value: todayWib() });
  const end = h("input", { type: "date" });
  const note = h("input", { placeholder: "Nomor surat / keterangan" });
  const go = h("button", { type: "submit", class: "btn btn-primary" }, "Catat");
  const form = h("form", { novalidate: true, class: "card" }, h("h2", null, "Cuti, sakit, dinas luar"), alert, who.el,
    h("div", { class: "grid-3" }, field("Kode", code, { name: "code" }), field("Mulai", start, { name: "start_date" }),
      field("Sampai", end, { name: "end_date" })), field("Keterangan", note, { name: "note" }), h("div", { class: "actions" }, go));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(form, alert);
    try {
      const r = await busy(go, "Menyimpan…", () => api.post("/api/activity/attendance/leave", {
        employee_id: who.value() || null, code: code.value, start_date: start.value, end_date: end.value || null, note: note.value || null }));
      toast(`${code.value} tercatat untuk ${r.days_changed} hari kerja.`);
    } catch (err) { showError(form, alert, err); }
  });
  return form;
}

function closeDayCard() {
  const alert = alertBox();
  const d = new Date(`${todayWib()}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - 1);
  const day = h("input", { type: "date", value: d.toISOString().slice(0, 10) });
  const go = h("button", { type: "submit", class: "btn btn-ghost" }, "Tutup hari");
  const out = h("p", { role: "status" });
  const form = h("form", { novalidate: true, class: "card" }, h("h2", null, "Tutup hari"),
    h("p", { class: "muted small" }, "Pegawai yang ditempatkan tanpa catatan apa pun pada hari kerja itu menjadi TK (tanpa keterangan). Aman diulang."),
    alert, h("div", { class: "inline-form" }, field("Tanggal", day, { name: "date" }), go), out);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(form, alert);
    try {
      const r = await busy(go, "Memproses…", () => api.post("/api/activity/attendance/close-day", { date: day.value }));
      out.textContent = `${r.date}: ${number(r.changed)} pegawai ditandai TK.`;
    } catch (err) { showError(form, alert, err); }
  });
  return form;
}

export { saveCsv };
