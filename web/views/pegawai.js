// Pegawai (BKD): the paged, searchable list of 10,000 employees (filters NIP, name, unit,
// status), one employee's record with placement history (register, edit, deactivate; place, end,
// extend a placement, definitive or Plt), and login accounts (create with a one-time password
// shown once, reset, roles, lock state).
import * as api from "../api.js";
import { h, replace, field, alertBox, showError, clearErrors, busy, toast } from "../dom.js";
import { nip as fmtNip, longDate, todayWib, ROLE_NAMES } from "../format.js";
import { ensureStyles, loadUnits, pagedTable, badge, employeePicker } from "./bo.js";

const STATUSES = ["CPNS", "PNS", "PPPK"];

export async function renderPegawai(container) {
  ensureStyles();
  const units = await loadUnits().catch(() => null);
  const q = h("input", { type: "search", placeholder: "Nama atau NIP", autocomplete: "off" });
  const unit = h("select", null, units ? units.options() : h("option", { value: "" }, "Semua unit"));
  const status = h("select", null, h("option", { value: "" }, "Semua status"), STATUSES.map((s) => h("option", { value: s }, s)));
  const active = h("select", null, h("option", { value: "true" }, "Aktif"), h("option", { value: "false" }, "Nonaktif"),
    h("option", { value: "" }, "Semua"));
  const filters = h("form", { class: "filters", role: "search", "aria-label": "Saring pegawai" },
    field("Cari (nama / NIP)", q, { name: "q" }), field("Unit (termasuk sub-unit)", unit, { name: "unit_id" }),
    field("Status", status, { name: "status" }), field("Keaktifan", active, { name: "active" }));
  const detail = h("div", { id: "employee-detail" });
  const list = pagedTable({
    id: "employee-list", caption: "Daftar pegawai",
    columns: [{ label: "Nama" }, { label: "NIP" }, { label: "Status" }, { label: "Jabatan hari ini" }, { label: "Unit" }, { label: "" }],
    row: (e) => {
      const open = h("button", { type: "button", class: "btn btn-small btn-ghost", "aria-label": `Buka ${e.name}` }, "Buka");
      open.addEventListener("click", () => showEmployee(e.id));
      const post = e.current_position;
      return h("tr", null, h("td", { class: "name" }, e.name, e.active ? null : [" ", badge("nonaktif")]),
        h("td", { class: "nowrap" }, fmtNip(e.nip)), h("td", null, `${e.status} ${e.golongan || ""}`),
        h("td", null, post ? `${post.position_name || post.position_id}${post.kind === "plt" ? " (Plt)" : ""}` : "—"),
        h("td", null, post && units ? units.name(post.unit_id) : "—"), h("td", null, open));
    },
    empty: "Tidak ada pegawai yang cocok.",
  });
  const url = () => (cursor) => {
    const p = new URLSearchParams({ limit: "50" });
    if (q.value.trim()) p.set("q", q.value.trim());
    if (status.value) p.set("status", status.value);
    if (active.value) p.set("active", active.value);
    if (unit.value && units) for (const id of units.below(unit.value)) p.append("unit_id", id);
    if (cursor) p.set("cursor", cursor);
    return `/api/identity/employees?${p}`;
  };
  let timer = null;
  const refresh = () => { clearTimeout(timer); timer = setTimeout(() => list.show(url()), 250); };
  q.addEventListener("input", refresh);
  [unit, status, active].forEach((s) => s.addEventListener("change", refresh));
  filters.addEventListener("submit", (ev) => { ev.preventDefault(); list.show(url()); });

  const registerBtn = h("button", { type: "button", class: "btn btn-primary" }, "Daftarkan pegawai");
  registerBtn.addEventListener("click", () => replace(detail, registerForm()));

  replace(container,
    h("div", { class: "view-head" }, h("h1", { tabindex: "-1" }, "Pegawai"), registerBtn),
    h("section", { class: "card" }, filters, list.el),
    detail,
    accountsCard());
  await list.show(url());

  // ---- one employee ----------------------------------------------------------------------
  async function showEmployee(id) {
    const alert = alertBox();
    replace(detail, h("section", { class: "card" }, h("p", { class: "loading" }, "Memuat…")));
    let e;
    try {
      e = await api.get(`/api/identity/employees/${id}`);
    } catch (err) {
      replace(detail, h("section", { class: "card" }, alert));
      showError(detail, alert, err);
      return;
    }
    const name = h("input", { value: e.name });
    const st = h("select", null, STATUSES.map((s) => h("option", { value: s }, s)));
    st.value = e.status;
    const gol = h("input", { value: e.golongan || "" });
    const bank = h("input", { value: e.bank_account || "", inputmode: "numeric" });
    const save = h("button", { type: "submit", class: "btn btn-primary" }, "Simpan perubahan");
    const toggle = h("button", { type: "button", class: "btn btn-reject" }, e.active ? "Nonaktifkan" : "Aktifkan kembali");
    const form = h("form", { novalidate: true }, alert,
      h("div", { class: "grid-3" }, field("Nama", name, { name: "name" }), field("Status", st, { name: "status" }),
        field("Golongan", gol, { name: "golongan" })),
      field("Rekening bank", bank, { name: "bank_account" }),
      h("div", { class: "actions" }, toggle, save));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      clearErrors(form, alert);
      try {
        await busy(save, "Menyimpan…", () => api.patch(`/api/identity/employees/${id}`, {
          name: name.value, status: st.value, golongan: gol.value, bank_account: bank.value || null }));
        toast("Data pegawai disimpan.");
        list.reload();
      } catch (err) { showError(form, alert, err); }
    });
    toggle.addEventListener("click", async () => {
      try {
        await busy(toggle, "Menyimpan…", () => api.patch(`/api/identity/employees/${id}`, { active: !e.active }));
        toast(e.active ? "Pegawai dinonaktifkan; sesi akunnya berakhir." : "Pegawai aktif kembali.");
        list.reload();
        showEmployee(id);
      } catch (err) { showError(form, alert, err); }
    });
    replace(detail, h("section", { class: "card", id: "employee-record" },
      h("div", { class: "card-head" }, h("h2", null, e.name), h("span", { class: "nip" }, fmtNip(e.nip))),
      form, h("h3", null, "Riwayat penempatan"), placements(e), placeForm(e)));
  }

  function placements(e) {
    const rows = (e.placements || []).map((p) => {
      const endInput = h("input", { type: "date", value: p.end_date || "", "aria-label": `Akhir penempatan ${p.position_name || ""}` });
      const change = h("button", { type: "button", class: "btn btn-small btn-ghost" }, p.end_date ? "Ubah akhir" : "Akhiri");
      change.addEventListener("click", async () => {
        try {
          await busy(change, "…", () => (p.end_date
            ? api.patch(`/api/identity/placements/${p.id}`, { end_date: endInput.value || null })
            : api.post(`/api/identity/placements/${p.id}/end`, { end_date: endInput.value || todayWib() })));
          toast("Penempatan diperbarui.");
          showEmployee(e.id);
        } catch (err) { toast(err.message, "warn"); }
      });
      return h("tr", null, h("td", null, p.position_name || p.position_id), h("td", null, p.kind === "plt" ? "Plt" : "Definitif"),
        h("td", { class: "nowrap" }, longDate(p.start_date)), h("td", { class: "nowrap" }, p.end_date ? longDate(p.end_date) : "sekarang"),
        h("td", null, h("div", { class: "inline-form" }, endInput, change)));
    });
    if (!rows.length) return h("p", { class: "empty" }, "Belum pernah ditempatkan.");
    return h("div", { class: "table-wrap" }, h("table", { class: "table" },
      h("thead", null, h("tr", null, ["Jabatan", "Jenis", "Mulai", "Sampai", "Ubah"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", null, rows)));
  }

  function placeForm(e) {
    const alert = alertBox();
    const pos = h("select", null, h("option", { value: "" }, "Memuat jabatan…"));
    api.get("/api/organization/positions").then((b) => replace(pos, h("option", { value: "" }, "— pilih jabatan —"),
      (b.positions || []).filter((p) => p.active !== false).sort((a, b2) => a.name.localeCompare(b2.name, "id"))
        .map((p) => h("option", { value: p.id }, `${p.name} (${p.code})`)))).catch(() => {});
    const start = h("input", { type: "date", value: todayWib() });
    const end = h("input", { type: "date" });
    const kind = h("select", null, h("option", { value: "definitive" }, "Definitif"), h("option", { value: "plt" }, "Plt (pelaksana tugas)"));
    const go = h("button", { type: "submit", class: "btn btn-primary" }, "Tempatkan");
    const form = h("form", { novalidate: true }, h("h3", null, "Tempatkan di jabatan"), alert,
      h("div", { class: "grid-2" }, field("Jabatan", pos, { name: "position_id" }), field("Jenis", kind, { name: "kind" })),
      h("div", { class: "grid-2" }, field("TMT (mulai)", start, { name: "start_date" }),
        field("Sampai (kosongkan bila belum ada)", end, { name: "end_date" })),
      h("div", { class: "actions" }, go));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      clearErrors(form, alert);
      try {
        await busy(go, "Menyimpan…", () => api.post(`/api/identity/employees/${e.id}/placements`, {
          position_id: pos.value, start_date: start.value, end_date: end.value || null, kind: kind.value }));
        toast("Pegawai ditempatkan.");
        showEmployee(e.id);
      } catch (err) { showError(form, alert, err); }
    });
    return form;
  }

  function registerForm() {
    const alert = alertBox();
    const f = {
      nip: h("input", { inputmode: "numeric", autocomplete: "off" }), name: h("input"),
      employee_kind: h("select", null, h("option", { value: "PNS" }, "PNS"), h("option", { value: "PPPK" }, "PPPK")),
      status: h("select", null, STATUSES.map((s) => h("option", { value: s }, s))), golongan: h("input", { placeholder: "III/a" }),
      bank_account: h("input", { inputmode: "numeric" }),
    };
    f.status.value = "PNS";
    const go = h("button", { type: "submit", class: "btn btn-primary" }, "Daftarkan");
    const form = h("form", { novalidate: true, class: "card", id: "register-form" }, h("h2", null, "Daftarkan pegawai"), alert,
      h("div", { class: "grid-2" }, field("NIP (18 angka)", f.nip, { name: "nip" }), field("Nama lengkap", f.name, { name: "name" })),
      h("div", { class: "grid-3" }, field("Jenis", f.employee_kind, { name: "employee_kind" }), field("Status", f.status, { name: "status" }),
        field("Golongan", f.golongan, { name: "golongan" })),
      field("Rekening bank", f.bank_account, { name: "bank_account" }), h("div", { class: "actions" }, go));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      clearErrors(form, alert);
      const body = Object.fromEntries(Object.entries(f).map(([k, el]) => [k, el.value.trim() || null]));
      try {
        const e = await busy(go, "Menyimpan…", () => api.post("/api/identity/employees", body));
        toast(`${e.name} terdaftar.`);
        list.reload();
        showEmployee(e.id);
      } catch (err) { showError(form, alert, err); }
    });
    return form;
  }
}

// ---- accounts ----------------------------------------------------------------------------

function accountsCard() {
  const alert = alertBox();
  const out = h("div");
  const username = h("input", { autocomplete: "off" });
  const roles = Object.entries(ROLE_NAMES).map(([r, label]) => {
    const box = h("input", { type: "checkbox", value: r });
    return h("label", { class: "check" }, box, ` ${label}`);
  });
  const go = h("button", { type: "submit", class: "btn btn-primary" }, "Buat akun");
  const shown = h("div", { "aria-live": "polite" });
  const form = h("form", { novalidate: true }, alert,
    h("div", { class: "grid-2" }, field("Nama pengguna (NIP untuk pegawai)", username, { name: "username" }),
      h("fieldset", { class: "field" }, h("legend", null, "Peran"), roles)),
    h("div", { class: "actions" }, go), shown);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(form, alert);
    const picked = roles.map((l) => l.querySelector("input")).filter((b) => b.checked).map((b) => b.value);
    try {
      let employeeId = null;
      if (/^\d{18}$/.test(username.value.trim())) {
        const found = await api.get(`/api/identity/employees?nip=${username.value.trim()}&limit=1`);
        employeeId = found.items && found.items[0] ? found.items[0].id : null;
      }
      const a = await busy(go, "Membuat…", () => api.post("/api/identity/accounts", {
        username: username.value.trim(), roles: picked, employee_id: employeeId }));
      replace(shown, oneTime(a));
      load();
    } catch (err) { showError(form, alert, err); }
  });

  const search = h("input", { type: "search", placeholder: "Nama pengguna atau nama", autocomplete: "off" });
  const table = pagedTable({ id: "account-list", caption: "Akun pengguna", columns: ["Nama pengguna", "Nama", "Peran", "Keadaan", ""].map((label) => ({ label })),
    row: (a) => accountRow(a), empty: "Tidak ada akun yang cocok." });
  const load = () => table.show((c) => `/api/identity/accounts?limit=50${search.value.trim() ? `&q=${encodeURIComponent(search.value.trim())}` : ""}${c ? `&cursor=${c}` : ""}`);
  let timer = null;
  search.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(load, 250); });
  out.append(field("Cari akun", search, { name: "account_q" }), table.el);

  function accountRow(a) {
    const reset = h("button", { type: "button", class: "btn btn-small btn-ghost" }, "Atur ulang sandi");
    reset.addEventListener("click", async () => {
      try {
        const r = await busy(reset, "…", () => api.post(`/api/identity/accounts/${a.id}/reset-password`, {}));
        replace(shown, oneTime(r));
        load();
      } catch (err) { showError(form, alert, err); }
    });
    const state = [!a.active ? badge("nonaktif") : null, a.locked ? badge("terkunci", "st-rejected") : null,
      a.must_change_password ? badge("sandi awal", "st-returned") : null].filter(Boolean);
    // Roles other than pegawai wait for a second person (identity README, "Roles and who grants them").
    const pending = (a.pending_roles || []).map((r) => ROLE_NAMES[r] || r);
    const roleText = a.roles.map((r) => ROLE_NAMES[r] || r).join(", ") + (pending.length ? ` (menunggu persetujuan: ${pending.join(", ")})` : "");
    return h("tr", null, h("td", null, a.username), h("td", null, a.name), h("td", null, roleText),
      h("td", null, state.length ? state : badge("aktif", "st-approved")), h("td", null, reset));
  }

  function oneTime(a) {
    return h("div", { class: "notice", role: "status", id: "one-time-password" },
      h("p", null, `Kata sandi sekali pakai untuk ${a.username} (hanya ditampilkan sekarang; berikan secara langsung):`),
      h("p", null, h("span", { class: "one-time" }, a.one_time_password || "—")),
      h("p", { class: "small" }, "Pengguna wajib menggantinya saat pertama masuk."),
      (a.pending_grants || []).length ? h("p", { class: "small" }, `Peran ${a.pending_grants.map((g) => ROLE_NAMES[g.role] || g.role).join(", ")} `
        + "menunggu persetujuan orang kedua (BPKAD, Bagian Organisasi, atau admin BKD lain).") : null);
  }

  load();
  return [h("section", { class: "card", id: "accounts" }, h("h2", null, "Akun pengguna"), form, out), boardCard()];
}

// ---- the appeals board (majelis banding) ----------------------------------------------------

function boardCard() {
  const alert = alertBox();
  const who = employeePicker("Anggota");
  const from = h("input", { type: "date", value: todayWib() });
  const go = h("button", { type: "submit", class: "btn btn-primary" }, "Angkat anggota");
  const list = h("div");
  const form = h("form", { novalidate: true }, alert, who.el, h("div", { class: "inline-form" }, field("Mulai", from, { name: "from_date" }), go));
  const load = async () => {
    try {
      const body = await api.get("/api/approval/board/members");
      const rows = (body.members || []).map((m) => {
        const end = h("button", { type: "button", class: "btn btn-small btn-reject", hidden: !m.active }, "Akhiri");
        end.addEventListener("click", async () => {
          try { await busy(end, "…", () => api.del(`/api/approval/board/members/${m.id}`)); load(); } catch (err) { showError(form, alert, err); }
        });
        return h("tr", null, h("td", null, m.name || m.employee_id), h("td", { class: "nowrap" }, fmtNip(m.nip)),
          h("td", null, `${longDate(m.from_date)}${m.to_date ? ` – ${longDate(m.to_date)}` : ""}`), h("td", null, m.active ? badge("aktif", "st-approved") : badge("berakhir")), h("td", null, end));
      });
      replace(list, rows.length ? h("div", { class: "table-wrap" }, h("table", { class: "table" },
        h("thead", null, h("tr", null, ["Anggota", "NIP", "Masa", "Keadaan", ""].map((t) => h("th", { scope: "col" }, t)))), h("tbody", null, rows)))
        : h("p", { class: "empty" }, "Belum ada anggota majelis."));
    } catch (err) { showError(form, alert, err); }
  };
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(form, alert);
    try {
      await busy(go, "…", () => api.post("/api/approval/board/members", { employee_id: who.value() || "", from_date: from.value }));
      toast("Anggota majelis diangkat. Beri akunnya peran Majelis Banding.");
      load();
    } catch (err) { showError(form, alert, err); }
  });
  load();
  return h("section", { class: "card", id: "board" }, h("h2", null, "Majelis banding"),
    h("p", { class: "muted small" }, "Anggota tidak pernah mengadili banding atas keputusannya sendiri."), form, list);
}
