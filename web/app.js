// E-Kinerja web client: session, navigation by role, and the hash router (#/kegiatan, …).
import * as api from "./api.js";
import { h, replace, field, alertBox, showError, clearErrors, busy, toast } from "./dom.js";
import { ROLE_NAMES } from "./format.js";
import { renderKegiatan } from "./views/kegiatan.js";
import { renderValidasi } from "./views/validasi.js";
import { renderTpp } from "./views/tpp.js";
import { renderAkun } from "./views/akun.js";
import { renderBeranda } from "./views/beranda.js";
import { renderPegawai } from "./views/pegawai.js";
import { renderImpor, renderKalender, renderPresensi } from "./views/bkd_kerja.js";
import { renderIzin } from "./views/izin.js";
import { renderLaporan } from "./views/laporan.js";
import { renderStruktur, renderAbk } from "./views/organisasi.js";
import { renderBulanan, renderKebijakan, renderGaji } from "./views/bpkad.js";

const has = (role) => (a) => a.roles.includes(role);

// Which views exist and who may see them (the services check again on every call).
const VIEWS = [
  {
    route: "kegiatan", label: "Kegiatan Harian", render: renderKegiatan,
    allowed: (a) => Boolean(a.employee_id) && a.roles.includes("pegawai"),
  },
  {
    // Supervisors are not a role: whoever holds a parent position is one. Every employee may
    // open the queue; it is empty for someone who supervises nobody.
    route: "validasi", label: "Validasi", render: renderValidasi,
    allowed: (a) => Boolean(a.employee_id) && a.roles.includes("pegawai"),
  },
  {
    route: "tpp", label: "TPP", render: renderTpp,
    allowed: (a) => a.roles.includes("bpkad") || (Boolean(a.employee_id) && a.roles.includes("pegawai")),
  },
  // The back office (views/*.js of BKD, Bagian Organisasi and BPKAD).
  { route: "beranda", label: "Beranda", render: renderBeranda, allowed: has("admin_bkd") },
  { route: "pegawai", label: "Pegawai", render: renderPegawai, allowed: has("admin_bkd") },
  { route: "impor", label: "Impor", render: renderImpor, allowed: has("admin_bkd") },
  { route: "kalender", label: "Kalender", render: renderKalender, allowed: has("admin_bkd") },
  { route: "presensi", label: "Presensi", render: renderPresensi, allowed: has("admin_bkd") },
  { route: "izin", label: "Izin Susulan", render: renderIzin, allowed: has("admin_bkd") },
  { route: "laporan", label: "Laporan", render: renderLaporan, allowed: has("admin_bkd") },
  { route: "struktur", label: "Struktur", render: renderStruktur, allowed: has("organisasi") },
  { route: "abk", label: "ABK", render: renderAbk, allowed: has("organisasi") },
  { route: "bulanan", label: "Bulan TPP", render: renderBulanan, allowed: has("bpkad") },
  { route: "kebijakan", label: "Kebijakan", render: renderKebijakan, allowed: has("bpkad") },
  { route: "gaji", label: "Gaji & Sanksi", render: renderGaji, allowed: has("bpkad") },
  { route: "akun", label: "Akun", render: renderAkun, allowed: () => true },
];

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const who = document.getElementById("who");
const whoName = document.getElementById("who-name");
const logoutButton = document.getElementById("logout");

let loginNotice = "";
let currentCleanup = null;
let renderSeq = 0;

function allowedViews() {
  const a = api.currentAccount();
  if (!a) return [];
  // A one-time password must be replaced first: identity issues such an account a token that
  // every other service refuses, so the only view is the password change.
  if (a.must_change_password) return VIEWS.filter((v) => v.route === "akun");
  return VIEWS.filter((v) => v.allowed(a));
}

function routeOf() {
  const m = /^#\/([a-z-]+)/.exec(location.hash);
  return m ? m[1] : "";
}

function renderNav() {
  const a = api.currentAccount();
  if (!a) {
    nav.hidden = true;
    who.hidden = true;
    replace(nav);
    return;
  }
  const current = routeOf();
  const links = allowedViews().map((v) =>
    h("a", { href: `#/${v.route}`, class: "nav-link", "aria-current": v.route === current ? "page" : false }, v.label),
  );
  replace(nav, h("ul", null, links.map((l) => h("li", null, l))));
  nav.hidden = links.length === 0;
  const roles = a.roles.map((r) => ROLE_NAMES[r] || r).join(", ");
  replace(whoName, h("span", { class: "who-person" }, a.name || a.username), h("span", { class: "who-roles" }, roles));
  who.hidden = false;
}

async function render() {
  const seq = ++renderSeq;
  if (currentCleanup) {
    try { currentCleanup(); } catch { /* view already gone */ }
    currentCleanup = null;
  }
  const a = api.currentAccount();
  if (!a) {
    renderNav();
    renderLogin();
    return;
  }
  const views = allowedViews();
  const view = views.find((v) => v.route === routeOf());
  if (!view) {
    location.replace(`#/${views[0].route}`); // "Akun" is always there; triggers hashchange → render
    return;
  }
  renderNav();
  const container = h("div", { class: "view", id: `view-${view.route}` });
  replace(main, container);
  document.title = `${view.label} — E-Kinerja ASN`;
  try {
    const cleanup = await view.render(container, { account: a });
    if (seq === renderSeq && typeof cleanup === "function") currentCleanup = cleanup;
  } catch (err) {
    if (seq !== renderSeq) return;
    const box = alertBox();
    replace(container, h("h1", { tabindex: "-1" }, view.label), box);
    showError(container, box, err);
  }
  const heading = container.querySelector("h1");
  // After a navigation, start reading (and tabbing) at the new view's heading.
  const active = document.activeElement;
  if (heading && seq === renderSeq && (active === document.body || nav.contains(active))) heading.focus({ preventScroll: true });
}

function renderLogin() {
  document.title = "Masuk — E-Kinerja ASN";
  const username = h("input", { type: "text", autocomplete: "username", required: true, spellcheck: "false", autocapitalize: "off" });
  const password = h("input", { type: "password", autocomplete: "current-password", required: true });
  const alert = alertBox();
  const submit = h("button", { type: "submit", class: "btn btn-primary btn-block" }, "Masuk");
  const form = h(
    "form",
    { class: "login-form", novalidate: true, "aria-labelledby": "login-title" },
    h("h1", { id: "login-title", tabindex: "-1" }, "Masuk"),
    h("p", { class: "muted" }, "Sistem kinerja dan Tambahan Penghasilan Pegawai (TPP) ASN."),
    loginNotice ? h("p", { class: "notice", role: "status" }, loginNotice) : null,
    alert,
    field("NIP / nama pengguna", username, { name: "username" }),
    field("Kata sandi", password, { name: "password" }),
    submit,
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(form, alert);
    const fields = {};
    if (!username.value.trim()) fields.username = "Wajib diisi";
    if (!password.value) fields.password = "Wajib diisi";
    if (Object.keys(fields).length) {
      showError(form, alert, { message: "Lengkapi data masuk.", fields });
      return;
    }
    try {
      await busy(submit, "Memproses…", () => api.login(username.value.trim(), password.value));
      loginNotice = "";
    } catch (err) {
      password.value = "";
      showError(form, alert, err);
    }
  });
  replace(main, h("section", { class: "card login-card" }, form));
  (username.value ? password : username).focus();
}

logoutButton.addEventListener("click", async () => {
  await busy(logoutButton, "Keluar…", () => api.logout().catch(() => {}));
  toast("Anda telah keluar.");
});

document.getElementById("skip-link").addEventListener("click", (ev) => {
  ev.preventDefault();
  main.focus();
});

window.addEventListener("hashchange", () => {
  if (!location.hash.startsWith("#/")) return;
  render();
});

api.onSession((account, reason) => {
  if (reason === "refresh") return; // same person, new token: nothing to redraw
  if (!account) {
    loginNotice = {
      expired: "Sesi Anda telah berakhir. Silakan masuk lagi.",
      password_changed: "Kata sandi berhasil diganti. Silakan masuk dengan kata sandi baru.",
    }[reason] || "";
    if (location.hash) history.replaceState(null, "", location.pathname + location.search);
    render();
    return;
  }
  if (reason === "login" || reason === "resume") {
    if (account.must_change_password && reason === "login") {
      toast("Ganti kata sandi awal Anda sebelum melanjutkan.", "warn");
    }
    render();
  }
});

async function start() {
  if (api.hasStoredRefreshToken()) {
    try {
      if (await api.refresh()) return; // onSession("resume") renders
    } catch (err) {
      loginNotice = err.message;
    }
  }
  render();
}

start();
