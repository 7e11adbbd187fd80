// Typed work kept on this device until the server has it (the seed's "kendala jaringan").
//
// Two things are kept, per employee, in localStorage (never a token: those live in memory and in
// identity's HttpOnly cookie):
//  * the entry form as it is being typed, so a dropped network, a reload or a tap on another
//    menu item loses nothing;
//  * the outbox: submissions not yet confirmed by the server. Each carries the Idempotency-Key it
//    was first sent with, so a retry after a lost answer returns the entry already stored
//    instead of a second one (or an "overlaps itself" error). An item leaves the outbox only
//    when the server answered it.
import * as api from "./api.js";

const formKey = (emp) => `ekinerja.form.${emp}`;
const outboxKey = (emp) => `ekinerja.outbox.${emp}`;

function read(key, fallback) {
  try {
    const raw = window.localStorage.getItem(key);
    return raw ? JSON.parse(raw) : fallback;
  } catch {
    return fallback; // storage off (private mode) or damaged: start afresh
  }
}

function write(key, value) {
  try {
    if (value === null) window.localStorage.removeItem(key);
    else window.localStorage.setItem(key, JSON.stringify(value));
  } catch {
    /* full or unavailable: the page still works, without the safety net */
  }
}

const appealKey = (emp, entryIds) => `ekinerja.appeal.${emp}.${entryIds.join(",")}`;

/** The appeal being written on these entries: its reasons as typed and the Idempotency-Key it
 *  is (or will be) filed with, so a retry after a lost answer files nothing twice. */
export function loadAppeal(emp, entryIds) {
  const saved = read(appealKey(emp, entryIds), null);
  return { key: saved && saved.key ? saved.key : api.newKey(), reasons: saved ? saved.reasons || "" : "" };
}

export function saveAppeal(emp, entryIds, draft) {
  write(appealKey(emp, entryIds), draft);
}

export function clearAppeal(emp, entryIds) {
  write(appealKey(emp, entryIds), null);
}

const dutiesKey = (emp) => `ekinerja.duties.${emp}`;

/** The duty list last received (offline, the form still offers the duties of one's position;
 *  the server checks them again when the entry arrives). */
export function loadDuties(emp) {
  return read(dutiesKey(emp), null);
}

export function saveDuties(emp, date, duties, limits) {
  write(dutiesKey(emp), { date, duties, limits });
}

export function loadForm(emp) {
  return read(formKey(emp), null);
}

export function saveForm(emp, values) {
  write(formKey(emp), { ...values, saved_at: new Date().toISOString() });
}

export function clearForm(emp) {
  write(formKey(emp), null);
}

/** The submissions waiting for the server, oldest first. */
export function pending(emp) {
  const items = read(outboxKey(emp), []);
  return Array.isArray(items) ? items : [];
}

function store(emp, items) {
  write(outboxKey(emp), items.length ? items : null);
}

/** Queue a submission: `entries` (request bodies), `submit` (false: save as drafts). */
export function enqueue(emp, entries, submit = true) {
  const item = { id: api.newKey(), key: api.newKey(), entries, submit, state: "waiting", error: null,
    created_at: new Date().toISOString() };
  store(emp, [...pending(emp), item]);
  return item;
}

export function remove(emp, id) {
  store(emp, pending(emp).filter((i) => i.id !== id));
  files.delete(id);
}

// Evidence chosen with a submission waits here, in the page's memory only (a photo does not fit
// in localStorage): it survives moving between views, not a reload. It is uploaded once the
// entry exists.
const files = new Map();

export function attachFiles(id, list) {
  if (list && list.length) files.set(id, [...list]);
}

export function filesOf(id) {
  return files.get(id) || [];
}

function update(emp, id, patch) {
  store(emp, pending(emp).map((i) => (i.id === id ? { ...i, ...patch } : i)));
}

/** A refusal the server may answer differently later (a first attempt still being processed). */
function retryable(err) {
  return err.transient || (err.status === 409 && /idempotency/.test(err.code || ""));
}

// What the API takes of an entry; the rest of a queued item (credited minutes, the duty's text)
// is for the list on screen.
const FIELDS = ["date", "start_time", "end_time", "duty_id", "volume", "description"];
const body = (e) => Object.fromEntries(FIELDS.map((f) => [f, e[f]]));

let flushing = null;

/**
 * Send every waiting submission, one after the other, each with its own Idempotency-Key.
 * `onSent(item, entries, files)` after each success (files: evidence chosen with it), `onChange()` whenever the outbox changed.
 * Refused ones (bad input) stay with their error for the person to correct; those that could
 * not reach the server stay waiting for the next flush (the network coming back, the page
 * opening again).
 */
export function flush(emp, { onSent, onChange } = {}) {
  if (flushing) return flushing;
  flushing = (async () => {
    for (const item of pending(emp)) {
      if (item.state === "error") continue;
      update(emp, item.id, { state: "sending" });
      onChange?.();
      try {
        const batch = item.entries.length > 1;
        const result = batch
          ? await api.post("/api/activity/entries/batch", { entries: item.entries.map(body), submit: item.submit },
            { idempotencyKey: item.key })
          : await api.post("/api/activity/entries", { ...body(item.entries[0]), submit: item.submit }, { idempotencyKey: item.key });
        const chosen = filesOf(item.id);
        remove(emp, item.id);
        try {
          await onSent?.(item, batch ? result.entries : [result], chosen);
        } catch {
          /* the server has it; only the screen's follow-up failed */
        }
      } catch (err) {
        if (retryable(err) || err.status === 401) {
          update(emp, item.id, { state: "waiting", error: { message: err.message } });
          onChange?.();
          break; // the network is down: the rest would fail the same way
        }
        update(emp, item.id, { state: "error", error: { message: err.message, fields: err.fields, status: err.status } });
      }
      onChange?.();
    }
  })().finally(() => {
    flushing = null;
  });
  return flushing;
}
