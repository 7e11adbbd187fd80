// Validasi: the supervisor's queue, grouped by person and day. Approve, return for revision or
// reject each entry; return and reject need a written reason, checked here before sending.
import * as api from "../api.js";
import { h, replace, alertBox, showError, clearErrors, busy, toast, newId } from "../dom.js";
import { minutes, number, longDate, nip, monthName } from "../format.js";

const ACTIONS = {
  approve: { label: "Setujui", done: "disetujui", cls: "btn-approve" },
  return: { label: "Kembalikan", done: "dikembalikan untuk diperbaiki", cls: "btn-return",
    title: "Kembalikan untuk diperbaiki", prompt: "Tuliskan apa yang perlu diperbaiki pegawai." },
  reject: { label: "Tolak", done: "ditolak", cls: "btn-reject",
    title: "Tolak kegiatan", prompt: "Tuliskan alasan penolakan. Pegawai dapat mengajukan keberatan atas penolakan." },
};

export async function render(container) {
  const alert = alertBox();
  const body = h("div", { class: "queue", "aria-live": "polite" });
  const countEl = h("p", { class: "muted", id: "queue-count" });
  const reload = h("button", { type: "button", class: "btn btn-ghost" }, "Muat ulang");
  const dialog = reasonDialog();

  replace(container,
    h("div", { class: "view-head" },
      h("h1", { tabindex: "-1" }, "Validasi"),
      reload),
    h("p", { class: "muted" }, "Kegiatan bawahan Anda yang menunggu validasi. Alasan wajib ditulis untuk mengembalikan atau menolak."),
    alert, countEl, body, dialog.el);

  let items = [];
  let approvedByPerson = new Map(); // employee_id → [{month, approved_minutes}]

  async function load() {
    clearErrors(container, alert);
    body.setAttribute("aria-busy", "true");
    try {
      const data = await api.get("/api/approval/queue");
      items = Array.isArray(data && data.items) ? data.items : [];
      approvedByPerson = new Map((Array.isArray(data && data.groups) ? data.groups : [])
        .map((g) => [String(g.employee_id), Array.isArray(g.months) ? g.months : []]));
      draw();
    } catch (err) {
      replace(body);
      countEl.textContent = "";
      if (err.status === 403) {
        replace(body, h("p", { class: "empty" }, err.message));
      } else {
        showError(container, alert, err);
      }
    } finally {
      body.removeAttribute("aria-busy");
    }
  }

  function draw() {
    countEl.textContent = items.length ? `${number(items.length)} kegiatan menunggu validasi.` : "";
    if (!items.length) {
      replace(body, h("p", { class: "empty" }, "Tidak ada kegiatan yang menunggu validasi."));
      return;
    }
    // person → day → entries, people by name, days and entries in time order
    const people = new Map();
    for (const it of items) {
      const key = String(it.employee_id);
      if (!people.has(key)) people.set(key, { name: it.employee_name, nip: it.nip, days: new Map() });
      const days = people.get(key).days;
      if (!days.has(it.date)) days.set(it.date, []);
      days.get(it.date).push(it);
    }
    const sortedPeople = [...people.entries()].sort((a, b) => String(a[1].name).localeCompare(String(b[1].name), "id"));
    replace(body, sortedPeople.map(([empId, person]) => {
      const headingId = newId("person");
      const total = [...person.days.values()].flat().reduce((t, e) => t + (Number(e.credited_minutes) || 0), 0);
      return h("section", { class: "card person", "aria-labelledby": headingId, dataset: { employeeId: empId } },
        h("div", { class: "person-head" },
          h("h2", { id: headingId }, person.name || "(tanpa nama)"),
          h("span", { class: "muted nip" }, `NIP ${nip(person.nip)}`),
          h("span", { class: "muted" }, `${minutes(total)} diajukan`),
          (approvedByPerson.get(empId) || []).map((m) => h("span", { class: "muted" },
            `· sudah disetujui ${monthName(...String(m.month).split("-"))}: ${minutes(m.approved_minutes)}`))),
        [...person.days.entries()].sort((a, b) => String(a[0]).localeCompare(String(b[0]))).map(([day, entries]) =>
          dayBlock(person, day, entries.sort((a, b) => String(a.start_time).localeCompare(String(b.start_time))))));
    }));
  }

  function dayBlock(person, day, entries) {
    const approveAll = entries.length > 1
      ? h("button", { type: "button", class: "btn btn-small btn-approve" }, `Setujui semua (${entries.length})`)
      : null;
    if (approveAll) {
      approveAll.addEventListener("click", () => approveMany(entries, approveAll, `${person.name} ${longDate(day)}`));
    }
    return h("div", { class: "day" },
      h("div", { class: "day-head" }, h("h3", null, longDate(day)), approveAll),
      h("ul", { class: "queue-list" }, entries.map((e) => entryItem(person, e))));
  }

  function entryItem(person, e) {
    const buttons = Object.entries(ACTIONS).map(([action, a]) => {
      const b = h("button", {
        type: "button", class: `btn btn-small ${a.cls}`, dataset: { action },
        "aria-label": `${a.label}: ${person.name}, ${longDate(e.date)} ${e.start_time}–${e.end_time}`,
      }, a.label);
      b.addEventListener("click", () => decide(e, action, b));
      return b;
    });
    return h("li", { class: "queue-item", dataset: { entryId: String(e.entry_id) } },
      h("div", { class: "qi-time nowrap" }, `${e.start_time}–${e.end_time}`),
      h("div", { class: "qi-main" },
        h("div", { class: "qi-duty" }, e.duty_description || "",
          e.escalated ? h("span", { class: "badge st-returned badge-inline", title: "Batas waktu validasi atasan langsung sudah lewat" }, "eskalasi") : null),
        e.description ? h("div", { class: "muted small" }, e.description) : null,
        h("div", { class: "small" },
          `${number(e.volume)} ${e.output_unit || ""} · `,
          h("strong", null, minutes(e.credited_minutes)), " diakui")),
      h("div", { class: "qi-actions" }, buttons));
  }

  async function decide(entry, action, button) {
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
    try {
      await busy(button, "Memproses…", () =>
        api.post(`/api/approval/entries/${encodeURIComponent(entry.entry_id)}/${action}`, body));
      removeItem(entry);
      toast(`Kegiatan ${entry.employee_name} ${entry.start_time}–${entry.end_time} ${ACTIONS[action].done}.`);
    } catch (err) {
      showError(container, alert, err);
      if (err.status === 404 || err.status === 409) await load(); // decided elsewhere meanwhile
    }
  }

  /** One decision on a whole day: all or nothing (POST /decisions). */
  async function approveMany(entries, button, what) {
    clearErrors(container, alert);
    try {
      const result = await busy(button, "Memproses…", () => api.post("/api/approval/decisions",
        { decision: "approve", entry_ids: entries.map((e) => e.entry_id) }));
      toast(`${number(result && result.decided !== undefined ? result.decided : entries.length)} kegiatan ${what} disetujui.`);
    } catch (err) {
      showError(container, alert, err);
    }
    await load();
  }

  function removeItem(entry) {
    items = items.filter((i) => i.entry_id !== entry.entry_id);
    draw();
    const next = body.querySelector("button[data-action='approve']");
    if (next) next.focus();
    else reload.focus();
  }

  reload.addEventListener("click", () => busy(reload, "Memuat…", load));
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
      info.textContent = `${entry.employee_name} · ${longDate(entry.date)} ${entry.start_time}–${entry.end_time} · ${entry.duty_description || ""}`;
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
