// Files in and out of the API for the back-office pages: an upload with progress (XHR: fetch
// reports no upload progress), a download of a file the API makes (slips, recap, bank list) and
// of a table the page itself made (CSV). The access token never leaves memory.
import * as api from "../api.js";

/** POST a file (multipart field "file"); onProgress(fraction 0..1) while it is sent. Resolves with
 *  the JSON answer, rejects with an api.ApiError (fields and rows of the import included). */
export async function upload(path, file, { onProgress, retried = false, key = newKey() } = {}) {
  const result = await new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    xhr.setRequestHeader("Accept", "application/json");
    // The same key on a retry (TEAM.md: idempotency): an import sent twice is stored once.
    xhr.setRequestHeader("Idempotency-Key", key);
    const token = api.bearerToken();
    if (token) xhr.setRequestHeader("Authorization", `Bearer ${token}`);
    xhr.upload.addEventListener("progress", (ev) => {
      if (onProgress && ev.lengthComputable) onProgress(ev.loaded / ev.total);
    });
    xhr.addEventListener("load", () => {
      let body = null;
      try { body = xhr.responseText ? JSON.parse(xhr.responseText) : null; } catch { body = null; }
      resolve({ status: xhr.status, body, retryAfter: xhr.getResponseHeader("Retry-After") });
    });
    xhr.addEventListener("error", () => resolve({ status: 0, body: null }));
    const form = new FormData();
    form.append("file", file, file.name || "berkas.csv");
    xhr.send(form);
  });
  if (result.status >= 200 && result.status < 300) return result.body;
  if (result.status === 401 && !retried && (await api.refresh().catch(() => false))) {
    return upload(path, file, { onProgress, retried: true, key });
  }
  const err = busyError(result.status, result.body, result.retryAfter) || new api.ApiError(result.status, result.body);
  err.rows = (result.body && result.body.error && Array.isArray(result.body.error.rows)) ? result.body.error.rows : null;
  err.raw = result.body && result.body.error;
  throw err;
}

/** GET a file of the API and save it under its own name; resolves with the Blob. */
export async function download(path, fallbackName) {
  for (let attempt = 0; attempt < 2; attempt++) {
    const token = api.bearerToken();
    let resp;
    try {
      resp = await fetch(path, { headers: token ? { Authorization: `Bearer ${token}` } : {}, cache: "no-store",
        credentials: "same-origin" });
    } catch {
      throw new api.ApiError(0, null);
    }
    if (resp.status === 401 && attempt === 0 && (await api.refresh().catch(() => false))) continue;
    if (!resp.ok) {
      let body = null;
      try { body = await resp.json(); } catch { body = null; }
      throw busyError(resp.status, body, resp.headers.get("Retry-After")) || new api.ApiError(resp.status, body);
    }
    const blob = await resp.blob();
    const m = /filename="([^"]+)"/.exec(resp.headers.get("Content-Disposition") || "");
    save(blob, m ? m[1] : fallbackName);
    return blob;
  }
  throw new api.ApiError(401, null);
}

function newKey() {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`;
}

/** A 503 with Retry-After (TEAM.md): the service is busy or disturbed, say when to try again. */
function busyError(status, body, retryAfter) {
  if (status !== 503) return null;
  const err = new api.ApiError(status, body);
  const n = Number(retryAfter);
  err.message = `Layanan sedang sibuk/terganggu, coba lagi dalam ${Number.isFinite(n) && n > 0 ? n : 30} detik.`;
  return err;
}

/** Offer a Blob as a file to save. */
export function save(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 30_000);
}

/** A table as a CSV file (UTF-8 with BOM, so Excel reads names right; formulas neutralised). */
export function saveCsv(name, header, rows) {
  const cell = (v) => {
    let s = v === null || v === undefined ? "" : String(v);
    if (/^[=+\-@\t\r]/.test(s) && !/^-?\d+([.,]\d+)?$/.test(s)) s = `'${s}`;
    return /[",\n;]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const text = [header, ...rows].map((r) => r.map(cell).join(",")).join("\r\n");
  save(new Blob(["\ufeff", text], { type: "text/csv;charset=utf-8" }), name);
}

/** A sample file the page itself offers (the format of an import), as CSV. */
export function saveSample(name, header, rows) {
  saveCsv(name, header, rows);
}
