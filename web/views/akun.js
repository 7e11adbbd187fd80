// Akun: who is logged in, and changing one's own password. A change ends every session of the
// account on the server; the client then logs in again with the new password. An account still
// on its one-time password sees only this view until it has chosen its own.
import * as api from "../api.js";
import { h, replace, field, alertBox, showError, clearErrors, busy, toast } from "../dom.js";
import { ROLE_NAMES } from "../format.js";

export async function render(container, { account }) {
  const current = h("input", { type: "password", autocomplete: "current-password", required: true });
  const next = h("input", { type: "password", autocomplete: "new-password", required: true });
  const again = h("input", { type: "password", autocomplete: "new-password", required: true });
  const alert = alertBox();
  const submit = h("button", { type: "submit", class: "btn btn-primary" }, "Ganti kata sandi");
  const form = h("form", { novalidate: true, "aria-labelledby": "pw-title" },
    h("h2", { id: "pw-title" }, "Ganti kata sandi"),
    account.must_change_password
      ? h("p", { class: "notice", id: "pw-required" },
        "Anda masih memakai kata sandi awal dari admin. Buat kata sandi Anda sendiri untuk mulai memakai aplikasi.")
      : null,
    alert,
    field("Kata sandi sekarang", current, { name: "current_password" }),
    field("Kata sandi baru", next, { name: "new_password" }),
    field("Ulangi kata sandi baru", again, { name: "new_password_again" }),
    h("p", { class: "muted small" }, "Setelah diganti, sesi akun ini di perangkat lain berakhir."),
    h("div", { class: "actions" }, submit));

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(form, alert);
    const fields = {};
    if (!current.value) fields.current_password = "Wajib diisi";
    if (!next.value) fields.new_password = "Wajib diisi";
    if (next.value && again.value !== next.value) fields.new_password_again = "Tidak sama dengan kata sandi baru";
    if (Object.keys(fields).length) {
      showError(form, alert, { message: "Periksa isian Anda.", fields });
      return;
    }
    try {
      await busy(submit, "Menyimpan…", () =>
        api.post("/api/identity/auth/password", { current_password: current.value, new_password: next.value }));
    } catch (err) {
      showError(form, alert, err);
      return;
    }
    // The change ended this session too: log in again with the new password, then open the
    // first view of the account (the hash is dropped without a hashchange, the login renders).
    const fresh = next.value;
    history.replaceState(null, "", location.pathname + location.search);
    try {
      await api.login(account.username, fresh);
      toast("Kata sandi berhasil diganti.");
    } catch {
      api.endSession("password_changed");
    }
  });

  replace(container,
    h("h1", { tabindex: "-1" }, "Akun"),
    h("section", { class: "card narrow" },
      h("dl", { class: "facts" },
        h("dt", null, "Nama"), h("dd", null, account.name || "—"),
        h("dt", null, "Nama pengguna"), h("dd", null, account.username || "—"),
        h("dt", null, "Peran"), h("dd", null, account.roles.map((r) => ROLE_NAMES[r] || r).join(", ") || "—"))),
    h("section", { class: "card narrow" }, form));
}
