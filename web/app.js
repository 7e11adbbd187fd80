// E-Kinerja web client: session, the menu (web/nav.js), the hash router (#/kegiatan,
// #/keberatan/<id>, …) and the network status line.
import * as api from "./api.js";
import { h, replace, field, alertBox, showError, clearErrors, busy, toast } from "./dom.js";
import { ROLE_NAMES } from "./format.js";
import { viewsFor } from "./nav.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const menuButton = document.getElementById("menu-button");
const who = document.getElementById("who");
const whoName = document.getElementById("who-name");
const logoutButton = document.getElementById("logout");
const netbar = document.getElementById("netbar");

let loginNotice = "";
let currentCleanup = null;
let renderSeq = 0;

/** "#/keberatan/abc" → {route: "keberatan", params: ["abc"]} */
function routeOf() {
  const m = /^#\/([a-z-]+)((?:\/[^/?#]+)*)/.exec(location.hash);
  if (!m) return { route: "", params: [] };
  return { route: m[1], params: m[2].split("/").filter(Boolean).map(decodeURIComponent) };
}

function setMenu(open) {
  nav.classList.toggle("open", open);
  menuButton.setAttribute("aria-expanded", String(open));
}

function renderNav() {
  const a = api.currentAccount();
  if (!a) {
    nav.hidden = true;
    who.hidden = true;
    menuButton.hidden = true;
    replace(nav);
    return;
  }
  const { route } = routeOf();
  const views = viewsFor(a);
  const links = views.map((v) =>
    h("a", { href: `#/${v.route}`, class: "nav-link", "aria-current": v.route === route ? "page" : false }, v.label));
  replace(nav, h("ul", null, links.map((l) => h("li", null, l))));
  nav.hidden = links.length === 0;
  menuButton.hidden = links.length <= 1;
  const current = views.find((v) => v.route === route);
  menuButton.textContent = current ? `Menu · ${current.label}` : "Menu";
  setMenu(false);
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
  const views = viewsFor(a);
  const { route, params } = routeOf();
  const view = views.find((v) => v.route === route);
  if (!view) {
    location.replace(`#/${views[0].route}`); // "Akun" is always there; triggers hashchange → render
    return;
  }
  renderNav();
  const container = h("div", { class: "view", id: `view-${view.route}` });
  replace(main, container, h("p", { class: "loading" }, "Memuat…"));
  document.title = `${view.label} — E-Kinerja ASN`;
  try {
    const mod = await view.load();
    if (seq !== renderSeq) return;
    const draw = mod[view.render || "render"];
    const rendering = draw(container, { account: a, params });
    // The view draws its own frame at once and says itself what it is still waiting for (the
    // network may be gone for minutes): the shell's "Memuat…" goes now.
    main.querySelector(":scope > .loading")?.remove();
    const cleanup = await rendering;
    if (seq === renderSeq && typeof cleanup === "function") currentCleanup = cleanup;
    else if (typeof cleanup === "function") cleanup();
  } catch (err) {
    if (seq !== renderSeq) return;
    const box = alertBox();
    replace(container, h("h1", { tabindex: "-1" }, view.label), box);
    showError(container, box, err);
  }
  if (seq !== renderSeq) return;
  main.querySelector(":scope > .loading")?.remove();
  const heading = container.querySelector("h1");
  // After a navigation, start reading (and tabbing) at the new view's heading.
  const active = document.activeElement;
  if (heading && (active === document.body || nav.contains(active) || active === menuButton)) heading.focus({ preventScroll: true });
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

// ---- network status -------------------------------------------------------------------------
// One line under the header: offline, or a service asking to wait (503 + Retry-After). Views
// retry their own reads; this only tells the person what is going on.
let netTimer = null;
function showNet() {
  clearInterval(netTimer);
  const s = api.networkState();
  if (!s.online) {
    netbar.className = "netbar netbar-offline";
    netbar.textContent = "Tidak ada koneksi internet. Isian Anda disimpan di perangkat ini dan dikirim saat koneksi kembali.";
    netbar.hidden = false;
    return;
  }
  if (s.busyUntil > Date.now()) {
    const tick = () => {
      const left = Math.ceil((s.busyUntil - Date.now()) / 1000);
      if (left <= 0) {
        clearInterval(netTimer);
        netbar.hidden = true;
        return;
      }
      netbar.className = "netbar netbar-busy";
      netbar.textContent = `Layanan sedang sibuk/terganggu, coba lagi dalam ${left} detik.`;
      netbar.hidden = false;
    };
    tick();
    netTimer = setInterval(tick, 1000);
    return;
  }
  netbar.hidden = true;
}
api.onNetwork(showNet);

// ---- wiring -----------------------------------------------------------------------------------
logoutButton.addEventListener("click", async () => {
  await busy(logoutButton, "Keluar…", () => api.logout().catch(() => {}));
  toast("Anda telah keluar.");
});

menuButton.addEventListener("click", () => setMenu(!nav.classList.contains("open")));
nav.addEventListener("click", (ev) => {
  const link = ev.target.closest("a");
  if (!link) return;
  setMenu(false);
  // The menu item of the page already open reloads it (no hashchange would).
  if (link.getAttribute("href") === location.hash) {
    ev.preventDefault();
    render();
  }
});
document.addEventListener("keydown", (ev) => {
  if (ev.key === "Escape" && nav.classList.contains("open")) {
    setMenu(false);
    menuButton.focus();
  }
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
  // The refresh token is an HttpOnly cookie this page cannot read: try it. A new tab (a link
  // opened from a chat app) resumes the login this way; without the cookie the login shows.
  try {
    if (await api.resume()) return; // onSession("resume") renders
  } catch (err) {
    loginNotice = err.message;
  }
  render();
}

start();
