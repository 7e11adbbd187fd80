// HTTP client of the gateway's /api/<service>/... endpoints.
//
// Tokens: the access token lives only in this module's memory (gone on reload, never in any
// storage). The refresh token is an HttpOnly, Secure, SameSite=Strict cookie that identity sets
// for the path /api/identity/auth/refresh only: no script can read it and no other request
// carries it. A reload or a second tab resumes the login with one refresh. Refresh tokens
// rotate (each is spent on use), so at most one refresh runs at a time — across tabs too
// (navigator.locks), else two tabs would present the same cookie and identity would end the
// session as a stolen token's reuse.
//
// Network: every failure to reach the server is an ApiError with status 0; a 503 carries
// `retryAfter` (seconds) and the state is announced (onNetwork) so the page can say so.
// Creating POSTs take an Idempotency-Key (kept with the locally saved draft), so a retry after a
// lost answer gets the stored result instead of doing it twice.

const REFRESH_PATH = "/api/identity/auth/refresh";

let accessToken = null;
let account = null;
let refreshing = null;
const sessionListeners = new Set();
const networkListeners = new Set();
const net = { online: typeof navigator === "undefined" ? true : navigator.onLine !== false, busyUntil: 0 };
const channel = typeof BroadcastChannel === "function" ? new BroadcastChannel("ekinerja-session") : null;

/** An error answer of the API, or a failure to reach it. */
export class ApiError extends Error {
  constructor(status, body, fallback, retryAfter = null) {
    const e = (body && typeof body === "object" && body.error) || {};
    let message = typeof e.message === "string" && e.message ? e.message : fallback || defaultMessage(status);
    if (status === 503) message = busyMessage(retryAfter);
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = typeof e.code === "string" ? e.code : status === 0 ? "network" : `http_${status}`;
    this.messageEn = typeof e.message_en === "string" ? e.message_en : "";
    this.fields = normaliseFields(e.fields);
    this.body = body;
    this.retryAfter = retryAfter;
  }

  /** True when trying again later may work (no answer, or the service asked to wait). */
  get transient() {
    return this.status === 0 || this.status === 502 || this.status === 503 || this.status === 504;
  }
}

function busyMessage(seconds) {
  const n = Number.isFinite(seconds) && seconds > 0 ? Math.ceil(seconds) : 5;
  return `Layanan sedang sibuk/terganggu, coba lagi dalam ${n} detik.`;
}

function defaultMessage(status) {
  if (status === 0) return "Tidak dapat terhubung ke server. Periksa koneksi Anda lalu coba lagi.";
  if (status === 401) return "Silakan masuk terlebih dahulu.";
  if (status === 403) return "Anda tidak berhak melakukan ini.";
  if (status === 404) return "Data tidak ditemukan.";
  if (status === 502 || status === 504) return `Layanan sedang tidak tersedia (HTTP ${status}). Coba lagi sebentar lagi.`;
  if (status >= 500) return `Terjadi kesalahan pada server (HTTP ${status}).`;
  return `Permintaan gagal (HTTP ${status}).`;
}

/** {name: {message, message_en}} (or plain strings) → {name: message in Indonesian}. */
function normaliseFields(fields) {
  const out = {};
  if (!fields || typeof fields !== "object") return out;
  for (const [name, value] of Object.entries(fields)) {
    if (typeof value === "string") out[name] = value;
    else if (value && typeof value === "object") out[name] = String(value.message || value.message_en || "");
  }
  return out;
}

async function readBody(resp) {
  if (resp.status === 204) return null;
  const type = resp.headers.get("Content-Type") || "";
  if (!type.includes("json")) {
    await resp.arrayBuffer().catch(() => null);
    return null; // e.g. an HTML error page of a proxy
  }
  const text = await resp.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function retryAfterOf(resp) {
  const raw = resp.headers.get("Retry-After");
  if (!raw) return null;
  const n = Number(raw);
  if (Number.isFinite(n)) return n;
  const at = Date.parse(raw);
  return Number.isFinite(at) ? Math.max(0, (at - Date.now()) / 1000) : null;
}

// ---- network state --------------------------------------------------------------------------

export function networkState() {
  return { ...net };
}

/** fn(state) whenever the page goes on/offline or a service asks to wait. */
export function onNetwork(fn) {
  networkListeners.add(fn);
  return () => networkListeners.delete(fn);
}

function emitNetwork() {
  for (const fn of networkListeners) fn(networkState());
}

function setOnline(online) {
  if (net.online === online) return;
  net.online = online;
  emitNetwork();
}

if (typeof window !== "undefined") {
  window.addEventListener("online", () => setOnline(true));
  window.addEventListener("offline", () => setOnline(false));
}

/** Resolves once the browser says it is online again (at once if it is). */
export function whenOnline() {
  if (net.online) return Promise.resolve();
  return new Promise((resolve) => {
    const stop = onNetwork((s) => {
      if (s.online) {
        stop();
        resolve();
      }
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Calls `work` until it succeeds or fails for a reason retrying cannot cure: no answer and
 * 502/503/504 are retried (after Retry-After, growing pauses, and the network coming back);
 * `onWait(err, seconds)` is told each time. `signal.aborted` stops it (the view was left).
 */
export async function retrying(work, { onWait, signal, maxDelay = 30 } = {}) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      if (!(err instanceof ApiError) || !err.transient || (signal && signal.aborted)) throw err;
      const delay = err.retryAfter ?? Math.min(maxDelay, 2 ** Math.min(attempt, 5));
      if (onWait) onWait(err, delay);
      await Promise.race([sleep(delay * 1000), net.online ? new Promise(() => {}) : whenOnline()]);
      if (!net.online) await whenOnline();
      if (signal && signal.aborted) throw err;
    }
  }
}

// ---- session ------------------------------------------------------------------------------

export function currentAccount() {
  return account;
}

export function hasSession() {
  return accessToken !== null;
}

/** fn(account | null, reason) is called whenever the session starts, changes or ends. */
export function onSession(fn) {
  sessionListeners.add(fn);
  return () => sessionListeners.delete(fn);
}

function emit(reason) {
  for (const fn of sessionListeners) fn(account, reason);
}

function setSession(data, reason) {
  if (!data || typeof data.access_token !== "string") {
    throw new ApiError(500, null, "Jawaban server tidak lengkap (token tidak ada).");
  }
  accessToken = data.access_token;
  const a = data.account || {};
  account = {
    id: a.id ?? null,
    username: a.username ?? "",
    employee_id: a.employee_id ?? null,
    name: a.name ?? a.username ?? "",
    roles: Array.isArray(a.roles) ? a.roles.map(String) : [],
    must_change_password: Boolean(a.must_change_password),
  };
  emit(reason);
}

function clearSession(reason) {
  const had = accessToken !== null || account !== null;
  accessToken = null;
  account = null;
  if (had || reason) emit(reason || "logout");
}

/** A fresh random UUID (an idempotency key). */
export function newKey() {
  if (typeof crypto !== "undefined" && typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

async function send(method, path, body, token, { idempotencyKey, form, raw, signal } = {}) {
  const headers = { Accept: raw ? "*/*" : "application/json" };
  let payload;
  if (form) {
    payload = form; // multipart: the browser sets the boundary
  } else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  if (token) headers.Authorization = `Bearer ${token}`;
  if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
  let resp;
  try {
    resp = await fetch(path, {
      method, headers, body: payload, signal,
      credentials: "same-origin",
      cache: "no-store",
      redirect: "error",
    });
  } catch (err) {
    if (signal && signal.aborted) throw err;
    if (typeof navigator !== "undefined" && navigator.onLine === false) setOnline(false);
    throw new ApiError(0, null);
  }
  setOnline(true);
  if (resp.status === 503) {
    const wait = retryAfterOf(resp) ?? 5;
    net.busyUntil = Date.now() + wait * 1000;
    emitNetwork();
  }
  if (raw && resp.ok) return { resp, data: await resp.blob() };
  return { resp, data: await readBody(resp) };
}

function failure(resp, data) {
  return new ApiError(resp.status, data, undefined, resp.status === 503 ? retryAfterOf(resp) ?? 5 : retryAfterOf(resp));
}

/** Calls the API with the access token; on 401 token_expired refreshes once and retries.
 *  opts: {idempotencyKey, form (FormData), raw (answer as a Blob), signal}. */
export async function request(method, path, body, opts = {}) {
  for (let attempt = 0; ; attempt++) {
    const sent = accessToken;
    const { resp, data } = await send(method, path, body, sent, opts);
    if (resp.ok) return data;
    const err = failure(resp, data);
    if (resp.status !== 401 || attempt > 0) {
      if (resp.status === 401) clearSession("expired");
      throw err;
    }
    if (accessToken !== null && accessToken !== sent) continue; // another request already refreshed
    if (err.code === "token_expired" || sent === null) {
      if (await refresh()) continue;
    }
    clearSession("expired");
    throw err;
  }
}

/** The access token for a request this module does not send itself (an upload with a progress
 *  bar through XMLHttpRequest, views/transfer.js); it stays in memory like every other use of it. */
export function bearerToken() {
  return accessToken;
}

export const get = (path, opts) => request("GET", path, undefined, opts);
export const patch = (path, body = {}, opts) => request("PATCH", path, body, opts);
export const post = (path, body = {}, opts) => request("POST", path, body, opts);
export const put = (path, body = {}, opts) => request("PUT", path, body, opts);
export const del = (path, opts) => request("DELETE", path, undefined, opts);
/** A file upload (multipart field `file`). */
export const upload = (path, file, opts = {}) => {
  const form = new FormData();
  form.append("file", file, file.name || "berkas");
  return request("POST", path, undefined, { ...opts, form });
};
/** A file download as a Blob (e.g. the TPP slip PDF: it needs the Authorization header). */
export const download = (path, opts = {}) => request("GET", path, undefined, { ...opts, raw: true });

export async function login(username, password) {
  // refresh_cookie: identity keeps the refresh token in the HttpOnly cookie and leaves it out
  // of the answer, so no script of this page ever holds it.
  const { resp, data } = await send("POST", "/api/identity/auth/login", { username, password, refresh_cookie: true });
  if (!resp.ok) throw failure(resp, data);
  setSession(data, "login");
  if (channel) channel.postMessage({ type: "login" });
  return account;
}

/** Exchange the refresh cookie for a new access token. Resolves true on success. */
export function refresh() {
  if (!refreshing) {
    const run = () => doRefresh();
    const locked = typeof navigator !== "undefined" && navigator.locks && navigator.locks.request
      ? navigator.locks.request("ekinerja-refresh", run)
      : run();
    refreshing = locked.finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

/** At start (reload, a second tab): resume the login from the cookie, if there is one. */
export async function resume() {
  return refresh();
}

async function doRefresh() {
  const { resp, data } = await send("POST", REFRESH_PATH, {});
  if (resp.ok) {
    setSession(data, accessToken === null ? "resume" : "refresh");
    return true;
  }
  if (resp.status >= 500 || resp.status === 0) throw failure(resp, data);
  // No cookie, spent, revoked or expired: there is no session to resume.
  return false;
}

/** Forget the session locally (e.g. after a password change ended it on the server). */
export function endSession(reason) {
  clearSession(reason);
}

export async function logout() {
  try {
    // The cookie is sent only to its path: DELETE on the refresh resource ends the session and
    // clears the cookie.
    await send("DELETE", REFRESH_PATH, undefined, accessToken);
  } finally {
    clearSession("logout");
    if (channel) channel.postMessage({ type: "logout" });
  }
}

if (channel) {
  // Another tab logged out: this one's refresh cookie is gone too, so end here at once rather
  // than at the next refresh.
  channel.addEventListener("message", (ev) => {
    if (ev.data && ev.data.type === "logout" && accessToken !== null) clearSession("logout");
  });
}
