// Izin pengisian susulan (BKD): the year's submission window as policy data, and dated, reasoned
// permissions for a person or a unit to enter past days outside it.
import * as api from "../api.js";
import { h, replace, field, alertBox, showError, clearErrors, busy, toast, reasonDialog } from "../dom.js";
import { longDate, todayWib } from "../format.js";
import { ensureStyles, loadUnits, pagedTable, employeePicker, badge } from "./bo.js";

export async function renderIzin(container) {
  ensureStyles();
  const units = await loadUnits().catch(() => null);
  const year = todayWib().slice(0, 4);
  const list = pagedTable({
    id: "permission-list", caption: "Izin pengisian susulan",
    columns: [{ label: "Untuk" }, { label: "Tanggal kegiatan" }, { label: "Berlaku sampai" }, { label: "Alasan" }, { label: "Keadaan" }, { label: "" }],
    row: (p) => {
      const revoke = h("button", { type: "button", class: "btn btn-small btn-reject" }, "Cabut");
      revoke.hidden = Boolean(p.revoked_at);
      revoke.addEventListener("click", async () => {
        const reason = await reasonDialog({ title: "Cabut izin pengisian susulan", label: "Alasan pencabutan",
          text: "Kegiatan yang sudah diisi dengan izin ini tetap tercatat.", confirm: "Cabut izin", danger: true });
        if (!reason) return;
        try {
          await busy(revoke, "…", () => api.post(`/api/activity/late-entry-permissions/${p.id}/revoke`, { reason }));
          toast("Izin dicabut.");
          list.reload();
        } catch (err) { toast(err.message, "warn"); }
      });
      return h("tr", null, h("td", { class: "name" }, p.employee_name || (p.unit_name ? `Unit: ${p.unit_name}` : p.employee_id || p.unit_id)),
        h("td", { class: "nowrap" }, `${longDate(p.start_date)} – ${longDate(p.end_date)}`), h("td", { class: "nowrap" }, longDate(p.valid_until)),
        h("td", null, p.reason), h("td", null, p.revoked_at ? badge("dicabut", "st-rejected") : badge("berlaku", "st-approved")), h("td", null, revoke));
    },
    empty: "Belum ada izin.",
  });
  const status = h("select", null, h("option", { value: "active" }, "Yang berlaku"), h("option", { value: "all" }, "Semua (termasuk dicabut/kedaluwarsa)"));
  const show = () => list.show((c) => `/api/activity/late-entry-permissions?status=${status.value}&limit=50${c ? `&cursor=${c}` : ""}`);
  status.addEventListener("change", show);

  replace(container, h("h1", { tabindex: "-1" }, "Izin pengisian susulan"),
    await windowCard(year), grantCard(units, show),
    h("section", { class: "card" }, h("div", { class: "card-head" }, h("h2", null, "Daftar izin"), field("Tampilkan", status, { name: "status", className: "inline" })), list.el));
  await show();
}

async function windowCard(year) {
  const alert = alertBox();
  const days = h("input", { type: "number", min: "0", max: "60", inputmode: "numeric" });
  const reason = h("input", { placeholder: "mis. Perbup Nomor … Tahun …" });
  const meta = h("p", { class: "muted small", role: "status" });
  const go = h("button", { type: "submit", class: "btn btn-ghost" }, "Simpan batas");
  let version = 0;
  const load = async () => {
    const p = await api.get(`/api/activity/entry-policies/${year}`);
    days.value = String(p.submission_window_days);
    version = p.version;
    meta.textContent = p.is_default ? `Bawaan (${p.submission_window_days} hari); belum ditetapkan untuk ${year}.`
      : `Versi ${p.version}, diubah ${String(p.updated_at).slice(0, 16).replace("T", " ")}.`;
  };
  const form = h("form", { novalidate: true, class: "card", id: "window-policy" }, h("h2", null, `Batas pengisian kegiatan ${year}`),
    h("p", { class: "muted small" }, "Kegiatan tanggal D dapat diisi sampai D + n hari. Perubahan tercatat beserta alasannya."),
    alert, h("div", { class: "inline-form" }, field("Batas (hari)", days, { name: "submission_window_days" }),
      field("Alasan perubahan", reason, { name: "reason" }), go), meta);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(form, alert);
    try {
      await busy(go, "Menyimpan…", () => api.put(`/api/activity/entry-policies/${year}`, {
        submission_window_days: Number(days.value), reason: reason.value || null, version }));
      toast("Batas pengisian disimpan.");
      await load();
    } catch (err) { showError(form, alert, err); }
  });
  await load().catch((err) => showError(form, alert, err));
  return form;
}

function grantCard(units, onDone) {
  const alert = alertBox();
  const target = h("select", null, h("option", { value: "person" }, "Seorang pegawai"), h("option", { value: "unit" }, "Seluruh unit (termasuk sub-unit)"));
  const who = employeePicker();
  const unit = h("select", null, units ? units.options("— pilih unit —") : []);
  const unitField = field("Unit", unit, { name: "unit_id" });
  unitField.hidden = true;
  target.addEventListener("change", () => { who.el.hidden = target.value !== "person"; unitField.hidden = target.value !== "unit"; });
  const start = h("input", { type: "date" });
  const end = h("input", { type: "date" });
  const until = h("input", { type: "date" });
  const reason = h("textarea", { rows: "2", placeholder: "mis. Mulai memakai e-Kinerja pada pertengahan bulan" });
  const go = h("button", { type: "submit", class: "btn btn-primary" }, "Beri izin");
  const form = h("form", { novalidate: true, class: "card", id: "grant-form" }, h("h2", null, "Beri izin pengisian susulan"),
    h("p", { class: "muted small" }, "Izin membuka batas pengisian saja, untuk tanggal yang disebut, sampai tanggal berlaku. Bulan yang sudah dikunci BPKAD tetap tertutup."),
    alert, field("Untuk", target, { name: "target" }), who.el, unitField,
    h("div", { class: "grid-3" }, field("Tanggal kegiatan dari", start, { name: "start_date" }), field("sampai", end, { name: "end_date" }),
      field("Izin berlaku sampai (kosong: 7 hari)", until, { name: "valid_until" })),
    field("Alasan", reason, { name: "reason" }), h("div", { class: "actions" }, go));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(form, alert);
    const body = { start_date: start.value || null, end_date: end.value || null, valid_until: until.value || null, reason: reason.value };
    if (target.value === "person") body.employee_id = who.value() || null; else body.unit_id = unit.value || null;
    try {
      const p = await busy(go, "Menyimpan…", () => api.post("/api/activity/late-entry-permissions", body));
      toast(`Izin diberikan untuk ${p.employee_name || p.unit_name}.`);
      reason.value = "";
      onDone();
    } catch (err) { showError(form, alert, err); }
  });
  return form;
}
