// Persetujuan peran: role requests waiting for their second person. A role other than pegawai is
// added only when the agency that answers for it approves what an admin_bkd asked for — BPKAD for
// bpkad, Bagian Organisasi for organisasi, a second admin_bkd for admin_bkd and majelis (identity
// grants.py, README "Roles and who grants them"). Nobody decides a request for their own account
// or one they asked for themselves; the one who asked may withdraw it. Requests lapse after 7 days.
import * as api from "../api.js";
import { h, replace, alertBox, showError, busy, toast, confirmDialog, reasonDialog } from "../dom.js";
import { dateTime, nip as fmtNip, ROLE_NAMES } from "../format.js";
import { ensureStyles, badge } from "./bo.js";

export async function render(container) {
  ensureStyles();
  const alert = alertBox();
  const list = h("div", { id: "role-grants" });
  replace(container, h("h1", { tabindex: "-1" }, "Persetujuan Peran"),
    h("p", { class: "muted" }, "Peran selain pegawai berlaku setelah disetujui orang kedua dari instansi yang bertanggung jawab: "
      + "BPKAD untuk peran BPKAD, Bagian Organisasi untuk peran Organisasi, admin BKD lain untuk Admin BKD dan Majelis Banding. "
      + "Permintaan kedaluwarsa setelah 7 hari."),
    alert, h("section", { class: "card" }, h("h2", null, "Menunggu persetujuan"), list));

  const load = async () => {
    try {
      const body = await api.get("/api/identity/role-grants");
      const items = body.items || [];
      replace(list, items.length ? h("ul", { class: "grant-list" }, items.map(row))
        : h("p", { class: "empty" }, "Tidak ada permintaan peran yang menunggu Anda."));
    } catch (err) { showError(container, alert, err); }
  };

  function row(g) {
    const who = g.name ? `${g.name} (${/^\d{18}$/.test(g.username || "") ? fmtNip(g.username) : g.username})` : g.username;
    const role = ROLE_NAMES[g.role] || g.role;
    const actions = h("div", { class: "actions" });
    if (g.may_approve) {
      const yes = h("button", { type: "button", class: "btn btn-primary" }, "Setujui");
      yes.addEventListener("click", async () => {
        const ok = await confirmDialog({ title: `Setujui peran ${role}?`, confirm: "Setujui",
          text: `${who} akan langsung memegang peran ${role}. Persetujuan Anda tercatat di jejak audit.` });
        if (!ok) return;
        try {
          await busy(yes, "…", () => api.post(`/api/identity/role-grants/${g.id}/approve`, {}));
          toast(`Peran ${role} diberikan kepada ${who}.`);
          load();
        } catch (err) { showError(container, alert, err); }
      });
      actions.append(yes);
    }
    if (g.may_approve || g.requested_by_me) {
      const label = g.requested_by_me ? "Tarik permintaan" : "Tolak";
      const no = h("button", { type: "button", class: "btn btn-ghost btn-reject" }, label);
      no.addEventListener("click", async () => {
        const reason = await reasonDialog({ title: g.requested_by_me ? "Tarik permintaan peran" : `Tolak peran ${role}`,
          label: "Alasan (dicatat di jejak audit)", confirm: label, danger: true });
        if (!reason) return;
        try {
          await busy(no, "…", () => api.post(`/api/identity/role-grants/${g.id}/reject`, { reason }));
          toast(g.requested_by_me ? "Permintaan ditarik." : "Permintaan ditolak.");
          load();
        } catch (err) { showError(container, alert, err); }
      });
      actions.append(no);
    }
    const why = g.requested_by_me ? "Anda yang mengajukan: orang kedua yang harus menyetujui."
      : g.may_approve ? null : `Hanya dapat disetujui oleh ${g.approver}${g.approver === "BKD" ? " (admin kedua)" : ""}.`;
    return h("li", { class: "card grant", "data-grant": g.id },
      h("div", { class: "card-head" }, h("strong", null, who), badge(role, "st-pending")),
      h("p", { class: "small" }, `Diajukan oleh ${g.requested_by_username || "—"}, ${dateTime(g.requested_at)}; `
        + `berlaku sampai ${dateTime(g.expires_at)} bila belum diputus.`),
      why ? h("p", { class: "muted small" }, why) : null, actions);
  }

  await load();
}
