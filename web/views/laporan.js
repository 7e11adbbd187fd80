// Laporan (BKD): late validations per supervisor, rejection rates per supervisor (the appeals
// board's trigger), who has entered nothing — each a table, a chart and a CSV download.
import * as api from "../api.js";
import { h, replace, alertBox, showError, clearErrors } from "../dom.js";
import { number, nip as fmtNip, percent } from "../format.js";
import { ensureStyles, monthPicker } from "./bo.js";
import { barChart } from "./chart.js";
import { saveCsv } from "./transfer.js";

export async function renderLaporan(container) {
  ensureStyles();
  const picker = monthPicker({ current: true });
  const late = h("section", { class: "card", id: "report-late" });
  const rates = h("section", { class: "card", id: "report-rates" });
  const idle = h("section", { class: "card", id: "report-idle" });
  replace(container, h("div", { class: "view-head" }, h("h1", { tabindex: "-1" }, "Laporan"), picker.el), late, rates, idle);

  function section(el, title, rows, header, csvName, chart, table) {
    const dl = h("button", { type: "button", class: "btn btn-small btn-ghost" }, "Unduh CSV");
    dl.addEventListener("click", () => saveCsv(`${csvName}-${picker.key()}.csv`, header, rows()));
    replace(el, h("div", { class: "card-head" }, h("h2", null, title), dl), chart, table);
  }

  function failed(el, title, err) {
    const a = alertBox();
    replace(el, h("h2", null, title), a);
    showError(el, a, err);
  }

  async function load() {
    const month = picker.key();
    const [l, r, n] = await Promise.allSettled([
      api.get(`/api/approval/reports/late-validations?month=${month}`),
      api.get(`/api/approval/reports/rejection-rates?month=${month}`),
      api.get(`/api/activity/reports/no-entries?month=${month}&limit=500`),
    ]);
    if (l.status === "fulfilled") {
      const rows = l.value.supervisors || [];
      section(late, "Validasi terlambat per atasan", () => rows.map((s) => [s.name, s.nip, s.late_entries, s.still_pending, s.employees]),
        ["atasan", "nip", "terlambat", "masih_menunggu", "pegawai"], "validasi-terlambat",
        rows.length ? barChart({ title: "Kegiatan yang terlambat divalidasi per atasan", items: rows.slice(0, 15).map((s) => ({ label: s.name || s.supervisor_id, value: s.late_entries })), format: number }) : null,
        rows.length ? table(["Atasan", "NIP", "Terlambat", "Masih menunggu", "Pegawai"], rows.map((s) => [s.name, fmtNip(s.nip), number(s.late_entries), number(s.still_pending), number(s.employees)]))
          : h("p", { class: "empty" }, "Tidak ada validasi yang melewati batas waktu bulan ini."));
    } else failed(late, "Validasi terlambat per atasan", l.reason);
    if (r.status === "fulfilled") {
      const rows = r.value.supervisors || [];
      section(rates, `Tingkat penolakan per atasan (pemicu majelis: > ${r.value.board_rejection_rate_pct} % dari ≥ ${r.value.board_min_decisions} keputusan)`,
        () => rows.map((s) => [s.name, s.nip, s.decisions, s.approved, s.returned, s.rejected, s.rejection_rate_pct, s.board_trigger ? "ya" : "tidak"]),
        ["atasan", "nip", "keputusan", "disetujui", "dikembalikan", "ditolak", "persen_ditolak", "pemicu_majelis"], "tingkat-penolakan",
        rows.length ? barChart({ title: "Persen kegiatan ditolak per atasan", items: rows.slice(0, 15).map((s) => ({ label: s.name || s.supervisor_id, value: Number(s.rejection_rate_pct), hot: s.board_trigger })),
          format: (v) => percent(v), highlight: (i) => i.hot }) : null,
        rows.length ? table(["Atasan", "NIP", "Keputusan", "Disetujui", "Dikembalikan", "Ditolak", "% ditolak", "Pemicu majelis"],
          rows.map((s) => [s.name, fmtNip(s.nip), number(s.decisions), number(s.approved), number(s.returned), number(s.rejected), percent(s.rejection_rate_pct), s.board_trigger ? "YA" : "—"]))
          : h("p", { class: "empty" }, "Belum ada keputusan validasi bulan ini."));
    } else failed(rates, "Tingkat penolakan per atasan", r.reason);
    if (n.status === "fulfilled") {
      const b = n.value;
      const units = b.by_unit || [];
      section(idle, `Belum mengisi kegiatan: ${number(b.total)} dari ${number(b.placed)} pegawai`,
        () => (b.items || []).map((e) => [e.name, e.nip, e.post ? e.post.unit_name : "", e.post ? e.post.position_name : ""]),
        ["nama", "nip", "unit", "jabatan"], "belum-mengisi",
        units.length ? barChart({ title: "Pegawai belum mengisi per unit", items: units.slice(0, 15).map((u) => ({ label: u.unit_name || "(unit belum dikenal)", value: u.without_entries, value2: u.placed })),
          format: number, series: ["belum mengisi", "ditempatkan"] }) : null,
        (b.items || []).length ? table(["Nama", "NIP", "Unit", "Jabatan"], b.items.map((e) => [e.name, fmtNip(e.nip), e.post ? e.post.unit_name || "—" : "—", e.post ? e.post.position_name || "—" : "—"]))
          : h("p", { class: "empty" }, "Semua pegawai sudah mengisi kegiatan bulan ini."));
    } else failed(idle, "Belum mengisi kegiatan", n.reason);
  }
  picker.onChange(load);
  await load();
}

function table(header, rows) {
  return h("div", { class: "table-wrap" }, h("table", { class: "table" },
    h("thead", null, h("tr", null, header.map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", null, rows.map((r) => h("tr", null, r.map((c) => h("td", null, c)))))));
}

export { clearErrors };
