// Validasi: the supervisor's queue at month-end scale (a head of bidang of 50 people may have
// 3,300 entries waiting). The queue comes a page at a time (GET /queue?limit=, keyset cursor),
// with the totals of the filtered queue and the people in it; filters by person, month and
// date range. A single decision changes one row (and the counts), never redraws the list.
// "Approve this person's month" and "approve everything filtered" go through POST /decisions,
// 1,000 entries a call, with a progress bar and each refused entry shown with its reason.
import * as api from "../api.js";
import { h, replace, field, alertBox, showError, clearErrors, busy, toast, newId, confirmDialog, progressBar, dateField } from "../dom.js";
import { minutes, number, longDate, dayLabel, nip, monthName, date, todayWib, daysBetween } from "../format.js";
import { evidenceLink } from "./shared.js";

const PAGE = 50;
const CHUNK = 1000; // POST /decisions takes at most 1,000 entries

const ACTIONS = {
  approve: { label: "Setujui", done: "disetujui", cls: "btn-approve" },
  return: { label: "Kembalikan", done: "dikembalikan untuk diperbaiki", cls: "btn-return",
    title: "Kembalikan untuk diperbaiki", prompt: "Tuliskan apa yang perlu diperbaiki pegawai." },
  reject: { label: "Tolak", done: "ditolak", cls: "btn-reject",
    title: "Tolak kegiatan", prompt: "Tuliskan alasan penolakan. Pegawai dapat mengajukan keberatan atas penolakan." },
};

const REFUSAL = {
  not_supervisor: "bukan bawahan Anda pada tanggal kegiatan",
  own_entry: "kegiatan Anda sendiri",
  not_found: "tidak ditemukan",
  already_decided: "sudah diputus (mungkin di tab atau perangkat lain)",
  withdrawn: "ditarik oleh pegawai",
  period_locked: "bulan sudah dikunci BPKAD",
};

export async function render(container) {
  const today = todayWib();
  const alert = alertBox();
  const totalsEl = h("p", { class: "queue-totals", id: "queue-count", "aria-live": "polite" });
  const peopleBox = h("details", { class: "card people-box", id: "people" });
  const list = h("div", { class: "queue", id: "queue-list" });
  const more = h("button", { type: "button", class: "btn btn-ghost btn-block", id: "queue-more", hidden: true }, "Muat lebih banyak");
  const reload = h("button", { type: "button", class: "btn btn-ghost" }, "Muat ulang");
  const bulkBox = h("div", { class: "bulk-box", id: "bulk", hidden: true, "aria-live": "polite" });
  const dialog = reasonDialog();

  const personSelect = h("select", { id: "filter-person" }, h("option", { value: "" }, "Semua pegawai"));
  const monthSelect = h("select", { id: "filter-month" }, h("option", { value: "" }, "Semua bulan"));
  const fromInput = dateField({ id: "filter-from" });
  const toInput = dateField({ id: "filter-to" });
  const approveFiltered = h("button", { type: "button", class: "btn btn-approve", id: "approve-filtered", disabled: true }, "Setujui semua yang tersaring");
  const filterForm = h("form", { class: "filters", novalidate: true, "aria-label": "Saring antrean" },
    field("Pegawai", personSelect, { name: "employee_id", className: "inline" }),
    field("Bulan", monthSelect, { name: "month", className: "inline" }),
    field("Dari tanggal", fromInput, { name: "from", className: "inline" }),
    field("Sampai tanggal", toInput, { name: "to", className: "inline" }),
    h("div", { class: "filter-actions" }, h("button", { type: "submit", class: "btn btn-primary" }, "Saring"), approveFiltered));

  replace(container,
    h("div", { class: "view-head" }, h("h1", { tabindex: "-1" }, "Validasi"), reload),
    h("p", { class: "muted" }, "Kegiatan bawahan Anda yang menunggu validasi. Alasan wajib ditulis untuk mengembalikan atau menolak."),
    alert, totalsEl, h("section", { class: "card" }, filterForm), bulkBox, peopleBox, list, more, dialog.el);

  let cursor = null;
  let totals = { entries: 0, minutes: 0, people: 0, escalated: 0 };
  let people = [];
  let seq = 0;
  // Where each loaded row lives, so a decision touches only its own row and counters.
  const personEls = new Map(); // employee_id → {section, count, days: Map(date → ul)}

  function filters() {
    const out = {};
    if (personSelect.value) out.employee_id = personSelect.value;
    if (monthSelect.value) out.month = monthSelect.value;
    if (fromInput.iso) out.from = fromInput.iso;
    if (toInput.iso) out.to = toInput.iso;
    return out;
  }

  const qs = (params) => new URLSearchParams(params).toString();

  async function load({ append = false } = {}) {
    const mine = ++seq;
    clearErrors(container, alert);
    if (!append) {
      cursor = null;
      personEls.clear();
      list.setAttribute("aria-busy", "true");
    }
    try {
      const params = { ...filters(), limit: String(PAGE), ...(append && cursor ? { cursor } : {}) };
      const data = await api.get(`/api/approval/queue?${qs(params)}`);
      if (mine !== seq) return;
      totals = data.totals || totals;
      people = Array.isArray(data.people) ? data.people : [];
      cursor = data.next_cursor || null;
      if (!append) replace(list);
      drawRows(Array.isArray(data.items) ? data.items : []);
      drawTotals();
      drawPeople();
      drawFilterChoices();
      more.hidden = !cursor;
      if (!list.firstChild) {
        replace(list, h("p", { class: "empty" }, Object.keys(filters()).length
          ? "Tidak ada kegiatan yang menunggu validasi untuk saringan ini."
          : "Tidak ada kegiatan yang menunggu validasi."));
      }
    } catch (err) {
      if (mine !== seq) return;
      if (!append) replace(list);
      showError(container, alert, err);
    } finally {
      if (mine === seq) list.removeAttribute("aria-busy");
    }
  }

  function drawTotals() {
    const t = totals;
    totalsEl.textContent = t.entries
      ? `${number(t.entries)} kegiatan menunggu validasi · ${minutes(t.minutes)} · ${number(t.people)} pegawai`
        + (t.escalated ? ` · ${number(t.escalated)} eskalasi` : "")
      : "";
    totalsEl.dataset.entries = String(t.entries);
    approveFiltered.disabled = !t.entries;
    approveFiltered.textContent = t.entries ? `Setujui semua yang tersaring (${number(t.entries)})` : "Setujui semua yang tersaring";
  }

  function drawFilterChoices() {
    const keepP = personSelect.value;
    const keepM = monthSelect.value;
    replace(personSelect, h("option", { value: "" }, "Semua pegawai"),
      people.map((p) => h("option", { value: p.employee_id }, `${p.employee_name || "(tanpa nama)"} (${number(p.pending_entries)})`)));
    if (keepP && people.some((p) => p.employee_id === keepP)) personSelect.value = keepP;
    else if (keepP) personSelect.append(h("option", { value: keepP, selected: true }, "Pegawai terpilih"));
    const months = [...new Set(people.flatMap((p) => p.months.map((m) => m.month)))].sort();
    replace(monthSelect, h("option", { value: "" }, "Semua bulan"),
      months.map((m) => h("option", { value: m }, monthName(...m.split("-")))));
    if (keepM) {
      if (!months.includes(keepM)) monthSelect.append(h("option", { value: keepM }, monthName(...keepM.split("-"))));
      monthSelect.value = keepM;
    }
  }

  // ---- people: who waits, and a person's month at once -----------------------------------------
  const personRows = new Map(); // employee_id → its line in the per-person list

  // The list is built when it is opened (50 people and their months are hundreds of elements the
  // first screen of the queue does not need).
  function drawPeople() {
    personRows.clear();
    if (!people.length) {
      peopleBox.hidden = true;
      return;
    }
    peopleBox.hidden = false;
    replace(peopleBox, h("summary", null, `Per pegawai (${number(people.length)}) — setujui sebulan sekaligus`));
    if (peopleBox.open) fillPeople();
  }

  function fillPeople() {
    if (peopleBox.querySelector(".people-list")) return;
    peopleBox.append(h("ul", { class: "people-list" }, people.filter((p) => p.pending_entries > 0).map((p) => {
      const row = personRow(p);
      personRows.set(p.employee_id, row);
      return row;
    })));
  }
  peopleBox.addEventListener("toggle", () => { if (peopleBox.open) fillPeople(); });

  /** One person's line again (after a decision changed their counts); gone when nothing waits. */
  function redrawPerson(p) {
    const old = personRows.get(p.employee_id);
    if (!old) return;
    if (p.pending_entries <= 0) {
      old.remove();
      personRows.delete(p.employee_id);
      return;
    }
    p.months = p.months.filter((m) => m.pending_entries > 0);
    const row = personRow(p);
    old.replaceWith(row);
    personRows.set(p.employee_id, row);
  }

  function personRow(p) {
    return h("li", { class: "person-row", dataset: { employeeId: p.employee_id } },
      h("div", { class: "pr-who" },
        h("strong", null, p.employee_name || "(tanpa nama)"), h("span", { class: "muted small nip" }, nip(p.nip)),
        h("span", { class: "muted small" },
          `${number(p.pending_entries)} kegiatan · ${minutes(p.pending_minutes)} · tertua ${date(p.oldest_date)}`
          + ` (${number(daysBetween(p.oldest_date, today))} hari)`)),
      h("div", { class: "pr-months" }, p.months.filter((m) => m.pending_entries > 0).map((m) => {
        const label = monthName(...m.month.split("-"));
        const b = h("button", { type: "button", class: "btn btn-small btn-approve", dataset: { month: m.month },
          "aria-label": `Setujui semua kegiatan ${p.employee_name} bulan ${label}` }, `Setujui ${label} (${number(m.pending_entries)})`);
        b.addEventListener("click", () => approveAll({ employee_id: p.employee_id, month: m.month },
          `${p.employee_name}, ${label}`, m.pending_entries, b));
        return h("div", { class: "pr-month" },
          h("span", { class: "small" }, `${label}: disetujui ${minutes(m.approved_minutes)}, menunggu ${minutes(m.pending_minutes)}`), b);
      })));
  }

  // ---- rows ----------------------------------------------------------------------------------
  function drawRows(items) {
    for (const it of items) {
      const key = String(it.employee_id);
      let person = personEls.get(key);
      if (!person) {
        const headingId = newId("person");
        const count = h("span", { class: "muted" });
        const section = h("section", { class: "card person", "aria-labelledby": headingId, dataset: { employeeId: key } },
          h("div", { class: "person-head" },
            h("h2", { id: headingId }, it.employee_name || "(tanpa nama)"),
            h("span", { class: "muted nip" }, `NIP ${nip(it.nip)}`), count));
        person = { section, count, days: new Map(), name: it.employee_name };
        personEls.set(key, person);
        list.append(section);
      }
      let day = person.days.get(it.date);
      if (!day) {
        const ul = h("ul", { class: "queue-list" });
        const block = h("div", { class: "day", dataset: { date: it.date } }, h("div", { class: "day-head" }, h("h3", null, longDate(it.date))), ul);
        person.section.append(block);
        day = { block, ul };
        person.days.set(it.date, day);
      }
      day.ul.append(row(it));
    }
    for (const [key, person] of personEls) updatePersonCount(key, person);
  }

  function updatePersonCount(key, person) {
    const p = people.find((x) => x.employee_id === key);
    person.count.textContent = p ? `${number(p.pending_entries)} kegiatan · ${minutes(p.pending_minutes)} menunggu` : "";
  }

  function row(e) {
    const buttons = Object.entries(ACTIONS).map(([action, a]) => {
      const b = h("button", {
        type: "button", class: `btn btn-small ${a.cls}`, dataset: { action },
        "aria-label": `${a.label}: ${e.employee_name}, ${longDate(e.date)} ${e.start_time}–${e.end_time}`,
      }, a.label);
      b.addEventListener("click", () => decide(e, action, b, li));
      return b;
    });
    const evidence = h("button", { type: "button", class: "btn btn-small btn-ghost", "aria-label": `Bukti: ${e.employee_name} ${e.start_time}` }, "Bukti");
    evidence.addEventListener("click", () => showEvidence(e, li, evidence));
    const li = h("li", { class: "queue-item", dataset: { entryId: String(e.entry_id) } },
      h("div", { class: "qi-time nowrap" }, `${e.start_time}–${e.end_time}`),
      h("div", { class: "qi-main" },
        h("div", { class: "qi-duty" }, e.duty_description || "",
          e.escalated ? h("span", { class: "badge st-returned badge-inline", title: "Batas waktu validasi atasan langsung sudah lewat" }, "eskalasi") : null),
        e.description ? h("div", { class: "muted small" }, e.description) : null,
        h("div", { class: "small" }, `${number(e.volume)} ${e.output_unit || ""} · `, h("strong", null, minutes(e.credited_minutes)), " diakui")),
      h("div", { class: "qi-actions" }, buttons, evidence));
    return li;
  }

  async function showEvidence(e, li, button) {
    const open = li.querySelector(".evidence-panel");
    if (open) {
      open.remove();
      button.setAttribute("aria-expanded", "false");
      return;
    }
    const panel = h("div", { class: "evidence-panel" }, h("p", { class: "muted small" }, "Memuat bukti…"));
    li.append(panel);
    button.setAttribute("aria-expanded", "true");
    try {
      const data = await api.get(`/api/activity/entries/${encodeURIComponent(e.entry_id)}/evidence`);
      const files = (data && data.evidence) || [];
      replace(panel, files.length
        ? h("ul", { class: "file-list" }, files.map((f) => h("li", null, evidenceLink(`/api/activity${f.url}`, f.filename))))
        : h("p", { class: "muted small" }, "Pegawai tidak melampirkan bukti."));
    } catch (err) {
      replace(panel, h("p", { class: "field-error" }, err.message));
    }
  }

  /** The counters of one entry leaving (sign 1) or coming back (sign -1): totals, the person's
   *  heading and their line in the per-person list. Nothing else is redrawn. */
  function count(e, sign) {
    const key = String(e.employee_id);
    const m = (e.credited_minutes || 0) * sign;
    totals = { ...totals, entries: totals.entries - sign, minutes: totals.minutes - m, escalated: totals.escalated - (e.escalated ? sign : 0) };
    const p = people.find((x) => x.employee_id === key);
    if (p) {
      p.pending_entries -= sign;
      p.pending_minutes -= m;
      const pm = p.months.find((x) => x.month === e.date.slice(0, 7));
      if (pm) {
        pm.pending_entries -= sign;
        pm.pending_minutes -= m;
      }
      const person = personEls.get(key);
      if (person) updatePersonCount(key, person);
      redrawPerson(p);
    }
    drawTotals();
  }

  function nextRow(li) {
    const rows = [...list.querySelectorAll(".queue-item:not([hidden])")];
    const at = rows.indexOf(li);
    return rows[at + 1] || rows[at - 1] || null;
  }

  /** The row leaves the screen at once (the decision is on its way); `settle` removes it for good
   *  (and the day and person blocks it leaves empty), `undo` puts it back. */
  function takeOut(e, li) {
    const next = nextRow(li);
    li.hidden = true;
    count(e, 1);
    const focus = next ? next.querySelector("button[data-action='approve']") : null;
    if (focus) focus.focus({ preventScroll: false });
    else reload.focus();
    return {
      settle() {
        const key = String(e.employee_id);
        const person = personEls.get(key);
        const day = person && person.days.get(e.date);
        li.remove();
        if (day && !day.ul.firstChild) {
          day.block.remove();
          person.days.delete(e.date);
        }
        if (person && person.days.size === 0) {
          person.section.remove();
          personEls.delete(key);
        }
        if (!list.querySelector(".queue-item")) {
          if (cursor) load({ append: true });
          else replace(list, h("p", { class: "empty" }, "Tidak ada kegiatan yang menunggu validasi."));
        }
      },
      undo() {
        li.hidden = false;
        count(e, -1);
      },
    };
  }

  async function decide(entry, action, button, li) {
    let body = {};
    if (action !== "approve") {
      const reason = await dialog.ask(ACTIONS[action], entry);
      if (reason === null) {
        button.focus();
        return;
      }
      body = { reason };
    }
    clearErrors(container, alert);
    const out = takeOut(entry, li);
    try {
      await api.post(`/api/approval/entries/${encodeURIComponent(entry.entry_id)}/${action}`, body);
      out.settle();
      toast(`Kegiatan ${entry.employee_name} ${entry.start_time}–${entry.end_time} ${ACTIONS[action].done}.`);
    } catch (err) {
      if (err.status === 404 || err.status === 409) {
        // Decided elsewhere meanwhile (another tab, the escalation target): it is gone.
        out.settle();
        toast(`${err.message}`, "warn");
      } else {
        out.undo();
        showError(container, alert, err);
        button.focus();
      }
    }
  }

  // ---- bulk ---------------------------------------------------------------------------------
  async function approveAll(params, what, expected, button) {
    const ok = await confirmDialog({
      title: "Setujui sekaligus?",
      text: `${number(expected)} kegiatan (${what}) akan disetujui. Periksa dahulu bila ada yang perlu dikembalikan atau ditolak.`,
      confirm: "Setujui semua",
    });
    if (!ok) return;
    const run = async () => {
      const data = await api.retrying(() => api.get(`/api/approval/queue/entry-ids?${qs(params)}`));
      await bulk(data.entry_ids || [], what);
    };
    await (button ? busy(button, "Memproses…", run) : run());
    await load();
  }

  async function bulk(ids, what) {
    const bar = progressBar(`Menyetujui ${what}`);
    const failures = [];
    const status = h("p", { class: "small" });
    bulkBox.hidden = false;
    replace(bulkBox, h("h2", null, `Menyetujui: ${what}`), bar.el, status);
    let done = 0;
    bar.set(0, ids.length, `0 dari ${number(ids.length)} disetujui`);
    for (let start = 0; start < ids.length; start += CHUNK) {
      let chunk = ids.slice(start, start + CHUNK);
      // All or nothing per call: the entries it refuses are set aside and the rest sent again.
      for (let attempt = 0; chunk.length && attempt < 3; attempt++) {
        try {
          const result = await api.retrying(() => api.post("/api/approval/decisions", { decision: "approve", entry_ids: chunk }),
            { onWait: (err, s) => { status.textContent = `${err.message} Dicoba lagi dalam ${Math.ceil(s)} detik.`; } });
          done += result.decided ?? chunk.length;
          chunk = [];
        } catch (err) {
          const refused = (err.body && err.body.error && Array.isArray(err.body.error.entries)) ? err.body.error.entries : null;
          if (!refused) {
            status.textContent = err.message;
            failures.push(...chunk.map((id) => ({ entry_id: id, reason: err.message })));
            chunk = [];
            break;
          }
          const bad = new Set(refused.map((r) => r.entry_id));
          for (const r of refused) failures.push({ entry_id: r.entry_id, reason: REFUSAL[r.code] || r.code });
          chunk = chunk.filter((id) => !bad.has(id));
        }
      }
      bar.set(done, ids.length, `${number(done)} dari ${number(ids.length)} disetujui`);
    }
    status.textContent = failures.length
      ? `${number(done)} kegiatan disetujui; ${number(failures.length)} tidak dapat disetujui:`
      : `Selesai: ${number(done)} kegiatan disetujui.`;
    bulkBox.dataset.done = String(done);
    bulkBox.dataset.failed = String(failures.length);
    if (failures.length) {
      bulkBox.append(h("ul", { class: "bulk-failures" }, failures.slice(0, 50).map((f) =>
        h("li", { dataset: { entryId: f.entry_id } }, `Kegiatan ${f.entry_id.slice(0, 8)}…: ${f.reason}`))),
      failures.length > 50 ? h("p", { class: "muted small" }, `dan ${number(failures.length - 50)} lainnya.`) : null);
    }
    const close = h("button", { type: "button", class: "btn btn-ghost btn-small" }, "Tutup");
    close.addEventListener("click", () => { bulkBox.hidden = true; });
    bulkBox.append(close);
    toast(status.textContent, failures.length ? "warn" : "ok");
  }

  approveFiltered.addEventListener("click", () => {
    const f = filters();
    const parts = [
      f.employee_id ? (people.find((p) => p.employee_id === f.employee_id)?.employee_name || "pegawai terpilih") : "semua pegawai",
      f.month ? monthName(...f.month.split("-")) : null,
      f.from || f.to ? `${f.from ? date(f.from) : "…"}–${f.to ? date(f.to) : "…"}` : null,
    ].filter(Boolean);
    approveAll(f, parts.join(", "), totals.entries, approveFiltered);
  });

  filterForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    load();
  });
  for (const el of [personSelect, monthSelect]) el.addEventListener("change", () => load());
  more.addEventListener("click", () => busy(more, "Memuat…", () => load({ append: true })));
  reload.addEventListener("click", () => busy(reload, "Memuat…", () => load()));
  await load();
  return () => dialog.close();
}

/** A modal dialog asking for a reason; resolves to the trimmed reason, or null if cancelled.
 *  An empty reason is refused here, before anything is sent. */
function reasonDialog() {
  const titleId = newId("dlg");
  const inputId = newId("reason");
  const errId = `${inputId}-err`;
  const title = h("h2", { id: titleId });
  const info = h("p", { class: "muted small" });
  const prompt = h("p", { id: `${inputId}-hint` });
  const textarea = h("textarea", { id: inputId, rows: "4", maxlength: "2000", "aria-describedby": `${inputId}-hint ${errId}` });
  const error = h("p", { class: "field-error", id: errId, role: "alert", hidden: true });
  const confirm = h("button", { type: "submit", class: "btn btn-primary" }, "Kirim");
  const cancel = h("button", { type: "button", class: "btn btn-ghost" }, "Batal");
  const form = h("form", { method: "dialog", novalidate: true },
    title, info, prompt,
    h("div", { class: "field" }, h("label", { for: inputId }, "Alasan"), textarea, error),
    h("div", { class: "actions" }, cancel, confirm));
  const el = h("dialog", { class: "dialog", "aria-labelledby": titleId }, form);
  let resolve = null;

  function finish(value) {
    const r = resolve;
    resolve = null;
    if (el.open) el.close();
    if (r) r(value);
  }

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const reason = textarea.value.trim();
    if (!reason) {
      error.textContent = "Alasan wajib diisi.";
      error.hidden = false;
      textarea.setAttribute("aria-invalid", "true");
      textarea.focus();
      return;
    }
    finish(reason);
  });
  textarea.addEventListener("input", () => {
    if (textarea.value.trim()) {
      error.hidden = true;
      textarea.removeAttribute("aria-invalid");
    }
  });
  cancel.addEventListener("click", () => finish(null));
  el.addEventListener("cancel", (ev) => {
    ev.preventDefault();
    finish(null);
  });

  return {
    el,
    ask(action, entry) {
      title.textContent = action.title;
      info.textContent = `${entry.employee_name} · ${dayLabel(entry.date)} ${entry.start_time}–${entry.end_time} · ${entry.duty_description || ""}`;
      prompt.textContent = action.prompt;
      confirm.textContent = action.label;
      confirm.className = `btn ${action.cls}`;
      textarea.value = "";
      error.hidden = true;
      error.textContent = "";
      textarea.removeAttribute("aria-invalid");
      if (resolve) finish(null);
      el.showModal();
      textarea.focus();
      return new Promise((r) => { resolve = r; });
    },
    close() { finish(null); },
  };
}
