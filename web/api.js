// HTTP client of the gateway's /api/<service>/... endpoints.
//
// Tokens: the access token lives only in this module's memory (gone on reload, never in any
// storage); the refresh token lives in sessionStorage (this tab only, gone when it closes), so a
// reload can resume the session with one refresh. Refresh tokens rotate: each is spent on use,
// so at most one refresh runs at a time and every waiting request shares its result.

const REFRESH_KEY = "ekinerja.refresh_token";

let accessToken = null;
let account = null;
let refreshing = null;
const sessionListeners = new Set();

/** An error answer of the API, or a failure to reach it. */
export class ApiError extends Error {
  constructor(status, body, fallback) {
    const e = (body && typeof body === "object" && body.error) || {};
    super(typeof e.message === "string" && e.message ? e.message : fallback || defaultMessage(status));
    this.name = "ApiError";
    this.status = status;
    this.code = typeof e.code === "string" ? e.code : `http_${status}`;
    this.messageEn = typeof e.message_en === "string" ? e.message_en : "";
    this.fields = normaliseFields(e.fields);
  }
}

function defaultMessage(status) {
  if (status === 0) return "Tidak dapat terhubung ke server. Periksa koneksi Anda lalu coba lagi.";
  if (status === 401) return "Silakan masuk terlebih dahulu.";
  if (status === 403) return "Anda tidak berhak melakukan ini.";
  if (status === 404) return "Data tidak ditemukan.";
  if (status === 502 || status === 503 || status === 504) return `Layanan sedang tidak tersedia (HTTP ${status}). Coba lagi sebentar lagi.`;
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
  const text = await resp.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null; // e.g. an HTML error page of the gateway
  }
}

export function currentAccount() {
  return account;
}

export function hasSession() {
  return accessToken !== null;
}

export function hasStoredRefreshToken() {
  return Boolean(sessionStorage.getItem(REFRESH_KEY));
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
  if (!data || typeof data.access_token !== "string" || typeof data.refresh_token !== "string") {
    throw new ApiError(500, null, "Jawaban server tidak lengkap (token tidak ada).");
  }
  accessToken = data.access_token;
  sessionStorage.setItem(REFRESH_KEY, data.refresh_token);
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
  sessionStorage.removeItem(REFRESH_KEY);
  if (had || reason) emit(reason || "logout");
}

async function send(method, path, body, token) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  let resp;
  try {
    resp = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store",
      redirect: "error",
    });
  } catch {
    throw new ApiError(0, null);
  }
  return { resp, data: await readBody(resp) };
}

/** Calls the API with the access token; on 401 token_expired refreshes once and retries. */
export async function request(method, path, body) {
  for (let attempt = 0; ; attempt++) {
    const sent = accessToken;
    const { resp, data } = await send(method, path, body, sent);
    if (resp.ok) return data;
    const err = new ApiError(resp.status, data);
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

/** The access token for a request this module does not send itself (a file upload with progress,
 *  views/transfer.js); it stays in memory like every other use of it. */
export function bearerToken() {
  return accessToken;
}

export const get = (path) => request("GET", path);
export const patch = (path, body = {}) => request("PATCH", path, body);
export const del = (path) => request("DELETE", path);
export const post = (path, body = {}) => request("POST", path, body);
export const put = (path, body = {}) => request("PUT", path, body);

export async function login(username, password) {
  const { resp, data } = await send("POST", "/api/identity/auth/login", { username, password });
  if (!resp.ok) throw new ApiError(resp.status, data);
  setSession(data, "login");
  return account;
}

/** Exchange the stored refresh token for a new pair. Resolves true on success. */
export function refresh() {
  if (!refreshing) {
    refreshing = doRefresh().finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

async function doRefresh() {
  const token = sessionStorage.getItem(REFRESH_KEY);
  if (!token) return false;
  const { resp, data } = await send("POST", "/api/identity/auth/refresh", { refresh_token: token });
  if (resp.ok) {
    setSession(data, accessToken === null ? "resume" : "refresh");
    return true;
  }
  if (resp.status >= 500 || resp.status === 0) throw new ApiError(resp.status, data);
  // Spent, revoked or expired: the session is over.
  sessionStorage.removeItem(REFRESH_KEY);
  return false;
}

/** Forget the session locally (e.g. after a password change ended it on the server). */
export function endSession(reason) {
  clearSession(reason);
}

export async function logout() {
  const token = sessionStorage.getItem(REFRESH_KEY);
  try {
    if (token) await send("POST", "/api/identity/auth/logout", { refresh_token: token }, accessToken);
  } finally {
    clearSession("logout");
  }
}
