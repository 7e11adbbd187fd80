// Kegiatan: record the day's work against the duties of one's position — one entry or a day's
// list in one go, as drafts or submitted, with evidence from the phone's camera — see the
// credited minutes and the day's running total before sending, and follow the month's entries
// (withdraw, revise, reuse, appeal a rejection).
//
// On a bad network nothing typed is lost: the form is kept on the device as it is typed, and a
// submission waits in the outbox (web/drafts.js) with its Idempotency-Key until the server has
// answered it.
import * as api from "../api.js";
import * as drafts from "../drafts.js";
import { evidenceLink, myAppealsByEntry } from "./shared.js";
import {
  h, replace, field, alertBox, showError, clearErrors, busy, toast, confirmDialog, newId, timeInput, monthSelect, dateHint, dateField,
} from "../dom.js";
import {
  todayWib, hhmmToMinutes, minutes, number, longDate, shortDate, dayLabel, monthName, entryState, addDays,
} from "../format.js";

let previewAvailable = true; // POST /entries/preview exists (learned at the first 404/405)

/** Credited minutes = min(volume × norma waktu, end − start) (DOMAIN.md "Daily activity"). */
export function creditedMinutes(volume, normaWaktu, start, end) {
  const s = hhmmToMinutes(start);
  const e = hhmmToMinutes(end);
  if (!Number.isInteger(volume) || volume < 0 || !Number.isInteger(normaWaktu) || s === null || e === null) return null;
  const byOutput = volume * normaWaktu;
  const span = e - s;
  return { byOutput, span, credited: Math.max(0, Math.min(byOutput, span)) };
}

const COUNTING = new Set(["draft", "submitted", "approved", "returned", "overturned"]); // claim their time slot

export async function render(container, { account }) {
  const emp = account.employee_id;
  const today = todayWib();
  const abort = new AbortController();
  let duties = [];
  let limits = { daily_ceiling_minutes: 450, target_minutes_per_day: 300, submission_window_days: 5 };
  let monthEntries = [];
  let previewSeq = 0;
  let previewTimer = null;
  let listSeq = 0;
  let editing = null; // the entry being changed, else null
  let wantedDuty = ""; // duty to select once the duties of the chosen date are loaded
  let queued = []; // the day's list, not sent yet: request bodies
  let files = []; // evidence chosen for the next single submission (kept in memory only)
  const unsentFiles = new Map(); // entry id → files whose upload failed

  // ---- form -----------------------------------------------------------------------------
  const minDate = addDays(today, -limits.submission_window_days);
  const dateInput = dateField({ required: true });
  dateInput.iso = today;
  const dutySelect = h("select", { required: true });
  const startInput = timeInput({ required: true });
  const endInput = timeInput({ required: true });
  const volumeInput = h("input", { type: "number", min: "1", step: "1", inputmode: "numeric", required: true, value: "1" });
  const unitLabel = h("span", { class: "unit", id: newId("unit") });
  const descInput = h("textarea", { rows: "3", maxlength: "2000", required: true });
  const dutyNote = h("p", { class: "muted small", role: "status", id: "duty-note" });
  const credit = h("div", { class: "credit", "aria-live": "polite", id: "credit" });
  const dayTotal = h("div", { class: "day-total", id: "day-total", "aria-live": "polite" });
  const camera = h("input", { type: "file", accept: "image/*", capture: "environment", class: "file-input", id: newId("cam") });
  const picker = h("input", { type: "file", accept: "image/jpeg,image/png,application/pdf", class: "file-input", multiple: true, id: newId("file") });
  const fileList = h("ul", { class: "file-list", "aria-live": "polite" });
  const formAlert = alertBox();
  const restored = h("p", { class: "notice", hidden: true, id: "restored-note" });
  const submit = h("button", { type: "submit", class: "btn btn-primary", id: "submit-entry" }, "Ajukan");
  const saveDraft = h("button", { type: "button", class: "btn btn-ghost", id: "save-draft" }, "Simpan draf");
  const addToList = h("button", { type: "button", class: "btn btn-ghost", id: "add-to-list" }, "Tambah ke daftar");
  const copyYesterday = h("button", { type: "button", class: "btn btn-ghost", id: "copy-yesterday" }, "Salin kegiatan hari sebelumnya");
  const cancelEdit = h("button", { type: "button", class: "btn btn-ghost", hidden: true }, "Batal mengubah");
  const formTitle = h("h2", { id: "entry-form-title" }, "Catat kegiatan");
  const editNote = h("p", { class: "notice", hidden: true, id: "edit-note" });
  const queueBox = h("div", { class: "queue-box", id: "day-list", hidden: true });

  const volumeField = field("Volume (jumlah keluaran)", volumeInput, { name: "volume" });
  volumeField.querySelector("input").after(unitLabel);
  volumeInput.setAttribute("aria-describedby", `${volumeInput.getAttribute("aria-describedby")} ${unitLabel.id}`);

  const form = h(
    "form",
    { class: "entry-form", novalidate: true, "aria-labelledby": "entry-form-title" },
    formTitle, restored, editNote, formAlert,
    h("div", { class: "grid-2" },
      field("Tanggal", dateInput, { name: "date", hint: `hh/bb/tttt; sampai ${limits.submission_window_days} hari ke belakang` }),
      field("Uraian tugas", dutySelect, { name: "duty_id" })),
    dateHint(dateInput, (v) => {
      const iso = dateInput.iso;
      return iso ? longDate(iso) : v.length === 10 ? "Tanggal tidak valid (hh/bb/tttt)" : "";
    }),
    dutyNote,
    h("div", { class: "grid-3" },
      field("Jam mulai", startInput, { name: "start_time" }),
      field("Jam selesai", endInput, { name: "end_time" }),
      volumeField),
    field("Keterangan kegiatan", descInput, { name: "description", hint: "Apa yang dikerjakan, singkat dan jelas." }),
    h("div", { class: "evidence-pick" },
      h("span", { class: "label" }, "Bukti (opsional, PDF/JPG/PNG, paling besar 5 MB)"),
      h("div", { class: "actions actions-start" },
        h("label", { class: "btn btn-ghost file-btn", for: camera.id }, "Foto dengan kamera"), camera,
        h("label", { class: "btn btn-ghost file-btn", for: picker.id }, "Pilih berkas"), picker),
      fileList),
    credit,
    dayTotal,
    queueBox,
    h("div", { class: "actions" }, copyYesterday, addToList, cancelEdit, saveDraft, submit),
  );

  // ---- outbox and month list -------------------------------------------------------------
  const outboxBox = h("section", { class: "card outbox", id: "outbox", hidden: true, "aria-live": "polite" });
  const monthInput = monthSelect(today.slice(0, 7));
  const listAlert = alertBox();
  const summary = h("div", { class: "summary", "aria-live": "polite" });
  const listBody = h("div", { class: "entries" });
  const listTitle = h("h2", { id: "entries-title" }, "Kegiatan bulan ini");
  const appealBar = h("div", { class: "appeal-bar", hidden: true });

  replace(
    container,
    h("h1", { tabindex: "-1" }, "Kegiatan Harian"),
    outboxBox,
    h("section", { class: "card" }, form),
    h("section", { class: "card", "aria-labelledby": "entries-title" },
      h("div", { class: "card-head" }, listTitle, field("Bulan", monthInput, { name: "month", className: "inline" })),
      listAlert, summary, appealBar, listBody),
  );

  // ---- typed work survives --------------------------------------------------------------
  function values() {
    return { date: dateInput.iso, duty_id: dutySelect.value || wantedDuty, start_time: startInput.value,
      end_time: endInput.value, volume: volumeInput.value, description: descInput.value, queued,
      editing: editing ? editing.id : null };
  }

  function remember() {
    const v = values();
    const blank = !v.description.trim() && !v.start_time && !v.end_time && !queued.length && !editing;
    if (blank) drafts.clearForm(emp);
    else drafts.saveForm(emp, v);
  }

  function restoreForm() {
    const v = drafts.loadForm(emp);
    if (!v) return;
    if (v.date && v.date >= minDate && v.date <= today) dateInput.iso = v.date;
    wantedDuty = v.duty_id || "";
    startInput.value = v.start_time || "";
    endInput.value = v.end_time || "";
    volumeInput.value = v.volume || "1";
    descInput.value = v.description || "";
    queued = Array.isArray(v.queued) ? v.queued : [];
    restored.textContent = "Isian Anda yang belum terkirim dipulihkan dari perangkat ini.";
    restored.hidden = false;
  }

  // ---- duties (retried by themselves when the network is back) ---------------------------
  function selectedDuty() {
    return duties.find((d) => String(d.id) === dutySelect.value) || null;
  }

  function useDuties(list, keep) {
    duties = list;
    if (duties.length === 0) {
      replace(dutySelect, h("option", { value: "" }, "Tidak ada uraian tugas"));
      dutySelect.disabled = true;
      dutyNote.textContent = "Tidak ada uraian tugas untuk jabatan Anda pada tanggal ini.";
      return;
    }
    replace(dutySelect, h("option", { value: "" }, "— Pilih uraian tugas —"),
      duties.map((d) => h("option", { value: String(d.id) }, `${d.description} — ${d.norma_waktu} menit/${d.output_unit}`)));
    dutySelect.disabled = false;
    if (duties.some((d) => String(d.id) === keep)) {
      dutySelect.value = keep;
      wantedDuty = "";
    }
  }

  async function loadDuties() {
    const day = dateInput.iso;
    const keep = wantedDuty || dutySelect.value;
    replace(dutySelect, h("option", { value: "" }, "Memuat uraian tugas…"));
    dutySelect.disabled = true;
    dutyNote.textContent = "";
    duties = [];
    if (!day) {
      replace(dutySelect, h("option", { value: "" }, "Isi tanggal dahulu"));
      updateCredit();
      return;
    }
    const cached = drafts.loadDuties(emp);
    try {
      const data = await api.retrying(
        () => api.get(`/api/activity/duties?date=${encodeURIComponent(day)}`),
        {
          signal: abort.signal,
          onWait: (err, seconds) => {
            if (dateInput.iso !== day) return;
            if (cached && !duties.length) {
              // Offline: the duties last received, so the work can be typed and queued now.
              useDuties(cached.duties || [], keep);
              updateCredit();
            }
            dutyNote.textContent = err.status === 0
              ? `Tidak ada koneksi.${cached ? " Uraian tugas dari penyimpanan perangkat;" : ""} Daftar dimuat lagi otomatis saat koneksi kembali.`
              : `${err.message} Dicoba lagi otomatis dalam ${Math.ceil(seconds)} detik.`;
          },
        });
      if (dateInput.iso !== day || abort.signal.aborted) return;
      if (data && data.limits) limits = { ...limits, ...data.limits };
      dutyNote.textContent = "";
      useDuties(Array.isArray(data && data.duties) ? data.duties : [], dutySelect.value || keep);
      drafts.saveDuties(emp, day, duties, limits);
    } catch (err) {
      if (abort.signal.aborted) return;
      replace(dutySelect, h("option", { value: "" }, "Gagal memuat uraian tugas"));
      showError(form, formAlert, err);
    }
    updateCredit();
  }

  // ---- credited minutes and the day's total ----------------------------------------------
  function body(forPreview) {
    const v = volumeInput.value.trim();
    const desc = descInput.value.trim();
    return {
      date: dateInput.iso,
      start_time: startInput.value.slice(0, 5),
      end_time: endInput.value.slice(0, 5),
      duty_id: dutySelect.value,
      volume: /^\d+$/.test(v) ? Number(v) : v === "" ? null : Number.NaN,
      // The preview checks the rules that decide the minutes; the text is not one of them, so
      // an unfinished description must not hide the figure.
      description: forPreview && !desc ? "(pratinjau)" : desc,
    };
  }

  function currentCalc() {
    const duty = selectedDuty();
    const d = body(false);
    return { duty, d, calc: duty ? creditedMinutes(d.volume, Number(duty.norma_waktu), d.start_time, d.end_time) : null };
  }

  function updateCredit() {
    const { duty, d, calc } = currentCalc();
    unitLabel.textContent = duty ? duty.output_unit : "";
    renderCredit(calc, duty, d, null);
    clearTimeout(previewTimer);
    // The preview cannot leave out the entry being changed (it would overlap itself): while
    // changing one, the client's own figure is shown and the save reports any broken rule.
    if (calc && calc.span > 0 && previewAvailable && d.date && !editing) {
      previewTimer = setTimeout(() => runPreview(calc, duty), 250);
    }
    renderDayTotal(calc ? calc.credited : 0);
  }

  function renderCredit(calc, duty, d, preview) {
    const head = [h("span", { class: "credit-label" }, "Menit diakui")];
    if (!duty || !calc) {
      replace(credit, head, h("strong", { class: "credit-value", id: "credited-minutes" }, "—"),
        h("span", { class: "muted small" }, "Pilih uraian tugas, isi jam dan volume untuk melihat menit yang diakui."));
      credit.className = "credit";
      return;
    }
    if (calc.span <= 0) {
      replace(credit, head, h("strong", { class: "credit-value", id: "credited-minutes" }, "—"),
        h("span", { class: "warn-text small" }, "Jam selesai harus setelah jam mulai."));
      credit.className = "credit credit-warn";
      return;
    }
    const checked = preview && preview.checked;
    const value = checked && Number.isInteger(preview.credited_minutes) ? preview.credited_minutes : calc.credited;
    const problems = preview && preview.errors ? Object.values(preview.errors) : [];
    let how;
    if (checked) how = "Diperiksa oleh server.";
    else if (preview && preview.offline) how = "Perkiraan; belum diperiksa server (tidak ada koneksi).";
    else if (editing) how = "Perkiraan; diperiksa saat disimpan.";
    else if (!previewAvailable) how = "Perkiraan; diperiksa saat diajukan.";
    else how = "Perkiraan; sedang diperiksa…";
    replace(credit, head,
      h("strong", { class: "credit-value", id: "credited-minutes", dataset: { minutes: String(value), checked: checked ? "server" : "client" } },
        minutes(value)),
      h("span", { class: "small" },
        `= min(${number(d.volume)} ${duty.output_unit} × ${duty.norma_waktu} menit = ${number(calc.byOutput)} menit, `
        + `${d.start_time}–${d.end_time} = ${number(calc.span)} menit)`),
      h("span", { class: "muted small", id: "credit-source" }, how),
      problems.length
        ? h("div", { class: "credit-problems" },
          h("span", null, "Perlu diperbaiki sebelum diajukan:"),
          h("ul", null, problems.map((p) => h("li", null, typeof p === "string" ? p : p.message || p.message_en || ""))))
        : null);
    credit.className = problems.length ? "credit credit-warn" : "credit";
  }

  async function runPreview(calc, duty) {
    const seq = ++previewSeq;
    const d = body(true);
    if (!Number.isInteger(d.volume)) return;
    try {
      const result = await api.post("/api/activity/entries/preview", d);
      if (seq !== previewSeq) return;
      renderCredit(calc, duty, body(false), { ...(result || {}), checked: true });
    } catch (err) {
      if (seq !== previewSeq) return;
      if (err.status === 404 || err.status === 405) previewAvailable = false;
      // The client's own figure stays; it is not claimed to be the server's.
      renderCredit(calc, duty, body(false), {
        credited_minutes: calc.credited, offline: err.transient, errors: err.status === 422 ? err.fields : {},
      });
    }
  }

  /** Minutes already claimed on a date: stored entries (but the one being changed), the list. */
  function claimedOn(day) {
    const stored = monthEntries
      .filter((e) => e.date === day && COUNTING.has(e.status) && (!editing || e.id !== editing.id))
      .reduce((t, e) => t + (Number(e.credited_minutes) || 0), 0);
    const listed = queued.filter((q) => q.date === day).reduce((t, q) => t + (q.credited || 0), 0);
    const waiting = drafts.pending(emp).flatMap((i) => i.entries).filter((q) => q.date === day)
      .reduce((t, q) => t + (q.credited || 0), 0);
    return stored + listed + waiting;
  }

  function renderDayTotal(current) {
    const day = dateInput.iso;
    if (!day) {
      replace(dayTotal);
      return;
    }
    const total = claimedOn(day) + (current || 0);
    const ceiling = limits.daily_ceiling_minutes;
    const target = limits.target_minutes_per_day;
    const over = total > ceiling;
    replace(dayTotal,
      h("span", { class: "credit-label" }, `Total ${dayLabel(day)}`),
      h("strong", { id: "day-total-minutes", dataset: { minutes: String(total) } }, minutes(total)),
      h("span", { class: "small" }, `batas harian ${number(ceiling)} menit · target ${number(target)} menit`),
      h("span", { class: over ? "warn-text small" : "muted small" },
        over ? `Melebihi batas harian ${number(total - ceiling)} menit.`
          : total >= target ? "Target harian tercapai." : `Kurang ${number(target - total)} menit dari target harian.`));
    dayTotal.className = over ? "day-total day-total-over" : "day-total";
  }

  // ---- evidence chosen in the form ---------------------------------------------------------
  function pickFiles(input) {
    for (const f of input.files) files.push(f);
    input.value = "";
    drawFiles();
  }

  function drawFiles() {
    replace(fileList, files.map((f, i) => {
      const remove = h("button", { type: "button", class: "btn btn-small btn-ghost", "aria-label": `Buang ${f.name}` }, "Buang");
      remove.addEventListener("click", () => { files.splice(i, 1); drawFiles(); });
      return h("li", null, h("span", null, `${f.name} (${number(Math.ceil(f.size / 1024))} KB)`), remove);
    }));
  }

  async function uploadFiles(entryId, list) {
    const failed = [];
    for (const f of list) {
      try {
        await api.upload(`/api/activity/entries/${encodeURIComponent(entryId)}/evidence`, f);
      } catch (err) {
        if (err.transient) failed.push(f);
        else toast(`Bukti ${f.name} ditolak: ${err.message}`, "warn");
      }
    }
    if (failed.length) {
      unsentFiles.set(entryId, failed);
      toast("Bukti belum terunggah (koneksi). Tekan “Unggah ulang bukti” pada kegiatan itu.", "warn");
    } else {
      unsentFiles.delete(entryId);
    }
  }

  // ---- the day's list --------------------------------------------------------------------
  function checkForm() {
    const d = body(false);
    const missing = {};
    if (!d.date) missing.date = "Wajib diisi";
    if (!d.duty_id) missing.duty_id = "Pilih uraian tugas";
    if (!d.start_time) missing.start_time = "Wajib diisi";
    if (!d.end_time) missing.end_time = "Wajib diisi";
    if (d.volume === null) missing.volume = "Wajib diisi";
    else if (!Number.isInteger(d.volume)) missing.volume = "Harus berupa bilangan bulat";
    if (!d.description) missing.description = "Wajib diisi";
    return { d, missing };
  }

  /** Something typed for another entry (the start time alone is prefilled with the last end). */
  function formFilled() {
    return Boolean(endInput.value || descInput.value.trim());
  }

  function queuedItem() {
    const { duty, calc } = currentCalc();
    const { d } = checkForm();
    return { ...d, credited: calc ? calc.credited : 0, duty_text: duty ? duty.description : "" };
  }

  function resetForNext() {
    startInput.value = endInput.value;
    endInput.value = "";
    descInput.value = "";
    volumeInput.value = "1";
    files = [];
    drawFiles();
    restored.hidden = true;
    updateCredit();
    remember();
  }

  // What the main button does now: while an entry is being changed it saves that change (the
  // label must not fall back to "Ajukan" as the person types).
  function submitLabel() {
    if (editing) return editing.status === "submitted" ? "Simpan perubahan" : "Simpan dan ajukan";
    return queued.length ? `Ajukan semua (${queued.length + (formFilled() ? 1 : 0)})` : "Ajukan";
  }

  function drawQueue() {
    queueBox.hidden = queued.length === 0;
    submit.textContent = submitLabel();
    if (!queued.length) {
      replace(queueBox);
      return;
    }
    replace(queueBox,
      h("h3", null, `Daftar yang akan dikirim (${queued.length})`),
      h("ul", { class: "queued" }, queued.map((q, i) => {
        const drop = h("button", { type: "button", class: "btn btn-small btn-ghost", "aria-label": `Hapus dari daftar: ${q.start_time}` }, "Hapus");
        drop.addEventListener("click", () => {
          queued.splice(i, 1);
          drawQueue();
          updateCredit();
          remember();
        });
        return h("li", { class: "queued-item" },
          h("span", { class: "nowrap strong" }, `${shortDate(q.date)} ${q.start_time}–${q.end_time}`),
          h("span", { class: "grow" }, q.duty_text || "", h("span", { class: "muted small" }, ` · ${q.description}`)),
          h("span", { class: "nowrap" }, minutes(q.credited)), drop);
      })));
  }

  addToList.addEventListener("click", () => {
    clearErrors(form, formAlert);
    const { missing } = checkForm();
    if (Object.keys(missing).length) {
      showError(form, formAlert, { message: "Data belum lengkap.", fields: missing });
      return;
    }
    if (files.length) {
      toast("Bukti dilampirkan setelah kegiatan tersimpan: unggah lewat tombol “Bukti” pada daftar bulan ini.", "warn");
      files = [];
      drawFiles();
    }
    queued.push(queuedItem());
    drawQueue();
    resetForNext();
    startInput.focus();
  });

  copyYesterday.addEventListener("click", async () => {
    const day = dateInput.iso || today;
    // The latest earlier day with entries: "yesterday" after a weekend is Friday.
    const earlier = monthEntries.filter((e) => e.date < day && e.status !== "withdrawn").map((e) => e.date).sort();
    let source = earlier.length ? earlier[earlier.length - 1] : null;
    let pool = monthEntries;
    if (!source) {
      // The month just began: look at the month before.
      const prev = addDays(`${day.slice(0, 7)}-01`, -1).slice(0, 7);
      try {
        const data = await api.get(`/api/activity/entries?month=${prev}`);
        pool = (data && data.entries) || [];
        const dates = pool.filter((e) => e.status !== "withdrawn").map((e) => e.date).sort();
        source = dates.length ? dates[dates.length - 1] : null;
      } catch (err) {
        showError(form, formAlert, err);
        return;
      }
    }
    if (!source) {
      toast("Belum ada kegiatan sebelumnya untuk disalin.", "warn");
      return;
    }
    const copies = pool.filter((e) => e.date === source && e.status !== "withdrawn");
    for (const e of copies) {
      queued.push({ date: day, start_time: e.start_time, end_time: e.end_time, duty_id: String(e.duty_id), volume: e.volume,
        description: e.description || "", credited: e.credited_minutes, duty_text: e.duty_description || "" });
    }
    drawQueue();
    updateCredit();
    remember();
    toast(`${copies.length} kegiatan ${dayLabel(source)} disalin ke daftar ${dayLabel(day)}. Periksa lalu ajukan.`);
  });

  // ---- sending ---------------------------------------------------------------------------
  async function send(submitIt, button) {
    clearErrors(form, formAlert);
    if (editing) {
      const { d, missing } = checkForm();
      if (Object.keys(missing).length) {
        showError(form, formAlert, { message: "Data belum lengkap.", fields: missing });
        return;
      }
      await saveChange(d, submitIt, button);
      return;
    }
    const list = [...queued];
    if (formFilled() || !list.length) {
      const { missing } = checkForm();
      if (Object.keys(missing).length) {
        showError(form, formAlert, { message: "Data belum lengkap.", fields: missing });
        return;
      }
      list.push(queuedItem());
    }
    const item = drafts.enqueue(emp, list, submitIt);
    if (list.length === 1) drafts.attachFiles(item.id, files);
    queued = [];
    drawQueue();
    resetForNext();
    drawOutbox();
    await busy(button, submitIt ? "Mengajukan…" : "Menyimpan…", () => flushOutbox());
    const refused = drafts.pending(emp).find((i) => i.id === item.id && i.state === "error");
    if (refused) takeBack(refused); // typed just now: straight back into the form, errors beside the fields
  }

  // A submission whose answer never came (the network dropped, the answer was lost) is sent
  // again by itself, with the same key, after a growing pause; and at once when the browser
  // says it is online again.
  let retryTimer = null;
  let retryDelay = 2;

  function scheduleRetry() {
    clearTimeout(retryTimer);
    if (!drafts.pending(emp).some((i) => i.state === "waiting")) {
      retryDelay = 2;
      return;
    }
    retryTimer = setTimeout(() => flushOutbox(), retryDelay * 1000);
    retryDelay = Math.min(30, retryDelay * 2);
  }

  /** Sends the outbox; entries the server stored come off it, with the evidence chosen with them. */
  async function flushOutbox() {
    clearTimeout(retryTimer);
    await drafts.flush(emp, {
      onChange: drawOutbox,
      onSent: async (item, entries, chosen) => {
        const n = entries.length;
        const total = entries.reduce((t, e) => t + (Number(e.credited_minutes) || 0), 0);
        toast(item.submit
          ? `${n} kegiatan diajukan: ${minutes(total)} menunggu validasi atasan.`
          : `${n} kegiatan disimpan sebagai draf.`);
        if (chosen.length && entries[0]) await uploadFiles(entries[0].id, chosen);
        const month = String(entries[0]?.date || "").slice(0, 7);
        if (month && monthInput.value !== month) setMonth(month);
        await loadEntries();
      },
    });
    drawOutbox();
    // A refusal of something sent earlier shows on its line of the outbox (with "Perbaiki"), not
    // on the form, which may hold other work by now.
    if (!abort.signal.aborted) scheduleRetry();
  }

  /** A refused submission back into the form (and the day's list) with the server's errors by
   *  the fields; sent again it gets a new key, since it is a new request. */
  function takeBack(it) {
    drafts.remove(emp, it.id);
    const [first, ...rest] = it.entries;
    queued = rest;
    dateInput.iso = first.date;
    wantedDuty = String(first.duty_id);
    startInput.value = first.start_time;
    endInput.value = first.end_time;
    volumeInput.value = String(first.volume);
    descInput.value = first.description;
    loadDuties();
    drawQueue();
    drawOutbox();
    remember();
    if (it.error) {
      // A batch names its fields entries.<i>.<field>; the form shows the first entry's.
      const fields = Object.fromEntries(Object.entries(it.error.fields || {})
        .map(([k, v]) => [k.replace(/^entries\.0\./, ""), v]));
      showError(form, formAlert, { message: it.error.message, fields });
    }
  }

  function drawOutbox() {
    const items = drafts.pending(emp);
    outboxBox.hidden = items.length === 0;
    if (!items.length) {
      replace(outboxBox);
      return;
    }
    const retry = h("button", { type: "button", class: "btn btn-primary", id: "outbox-retry" }, "Kirim sekarang");
    retry.addEventListener("click", () => busy(retry, "Mengirim…", () => flushOutbox()));
    replace(outboxBox,
      h("div", { class: "card-head" }, h("h2", null, "Belum terkirim"), retry),
      h("p", { class: "muted small" },
        "Tersimpan di perangkat ini dan dikirim otomatis saat koneksi kembali. Kirim ulang aman: kegiatan tidak akan tercatat dua kali."),
      h("ul", { class: "queued" }, items.map((it) => {
        const state = it.state === "sending" ? "sedang dikirim…" : it.state === "error" ? "ditolak server" : "menunggu koneksi";
        const fix = it.state === "error"
          ? h("button", { type: "button", class: "btn btn-small btn-ghost" }, "Perbaiki")
          : null;
        fix?.addEventListener("click", () => takeBack(it));
        const drop = h("button", { type: "button", class: "btn btn-small btn-ghost" }, "Buang");
        drop.addEventListener("click", async () => {
          if (await confirmDialog({ title: "Buang isian ini?", text: "Kegiatan yang belum terkirim ini akan dihapus dari perangkat.", confirm: "Buang", danger: true })) {
            drafts.remove(emp, it.id);
            drawOutbox();
            updateCredit();
          }
        });
        return h("li", { class: `queued-item outbox-${it.state}`, dataset: { state: it.state } },
          h("span", { class: "grow" },
            it.entries.map((e) => `${shortDate(e.date)} ${e.start_time}–${e.end_time} ${e.duty_text || ""}`).join("; "),
            it.error && it.state === "error" ? h("span", { class: "field-error" }, ` ${it.error.message}`) : null),
          h("span", { class: "badge st-returned" }, state), fix, drop);
      })));
  }

  // ---- changing an entry not decided yet -------------------------------------------------------
  async function startEdit(entry) {
    editing = entry;
    clearErrors(form, formAlert);
    formTitle.textContent = `Ubah kegiatan ${longDate(entry.date)} ${entry.start_time}–${entry.end_time}`;
    editNote.textContent = entry.reason ? `Alasan dikembalikan: ${entry.reason}`
      : entry.status === "submitted" ? "Kegiatan ini menunggu validasi; perubahan dikirim ke atasan Anda." : "";
    editNote.hidden = !editNote.textContent;
    submit.textContent = submitLabel();
    saveDraft.hidden = entry.status === "submitted";
    addToList.hidden = true;
    copyYesterday.hidden = true;
    cancelEdit.hidden = false;
    dateInput.iso = entry.date;
    wantedDuty = String(entry.duty_id);
    startInput.value = entry.start_time;
    endInput.value = entry.end_time;
    volumeInput.value = String(entry.volume);
    descInput.value = entry.description || "";
    await loadDuties();
    form.scrollIntoView({ block: "start" });
    dateInput.focus({ preventScroll: true });
  }

  function stopEdit() {
    editing = null;
    formTitle.textContent = "Catat kegiatan";
    editNote.hidden = true;
    saveDraft.hidden = false;
    addToList.hidden = false;
    copyYesterday.hidden = false;
    cancelEdit.hidden = true;
    clearErrors(form, formAlert);
    endInput.value = "";
    descInput.value = "";
    volumeInput.value = "1";
    drawQueue();
    updateCredit();
    remember();
  }

  async function saveChange(d, submitIt, button) {
    const id = encodeURIComponent(editing.id);
    const wasPending = editing.status === "submitted";
    try {
      const entry = await busy(button, "Menyimpan…", async () => {
        const saved = await api.put(`/api/activity/entries/${id}`, d);
        if (wasPending || !submitIt) return saved;
        return api.post(`/api/activity/entries/${id}/submit`, {});
      });
      if (files.length) await uploadFiles(entry.id, files);
      toast(wasPending ? "Perubahan dikirim; menunggu konfirmasi layanan validasi."
        : submitIt ? `Kegiatan ${shortDate(entry.date)} diajukan: ${minutes(entry.credited_minutes)} menunggu validasi atasan.`
          : "Draf disimpan.");
      files = [];
      drawFiles();
      stopEdit();
    } catch (err) {
      showError(form, formAlert, err);
    }
    await loadEntries();
  }

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    send(true, submit);
  });
  saveDraft.addEventListener("click", () => send(false, saveDraft));
  cancelEdit.addEventListener("click", () => {
    stopEdit();
    submit.focus();
  });

  // ---- the month's entries ---------------------------------------------------------------------
  async function loadEntries() {
    const month = monthInput.value || today.slice(0, 7);
    const seq = ++listSeq;
    const [y, m] = month.split("-");
    listTitle.textContent = `Kegiatan ${monthName(y, m)}`;
    clearErrors(listBody, listAlert);
    listBody.setAttribute("aria-busy", "true");
    try {
      const [data, appeals] = await Promise.all([
        api.retrying(() => api.get(`/api/activity/entries?month=${encodeURIComponent(month)}`), { signal: abort.signal }),
        myAppealsByEntry(account),
      ]);
      if (seq !== listSeq) return;
      appealsByEntry = appeals;
      monthEntries = Array.isArray(data && data.entries) ? data.entries : [];
      renderEntries(monthEntries, (data && data.minutes) || {});
      updateCredit();
    } catch (err) {
      if (seq !== listSeq || abort.signal.aborted) return;
      replace(listBody);
      replace(summary);
      showError(listBody, listAlert, err);
    } finally {
      if (seq === listSeq) listBody.removeAttribute("aria-busy"); // a newer load is still on its way otherwise
    }
  }

  function setMonth(month) {
    if (![...monthInput.options].some((o) => o.value === month)) {
      const [y, m] = month.split("-");
      monthInput.append(h("option", { value: month }, monthName(y, m)));
    }
    monthInput.value = month;
  }

  const chosenForAppeal = new Set();
  let appealsByEntry = new Map();

  function drawAppealBar() {
    appealBar.hidden = chosenForAppeal.size === 0;
    if (!chosenForAppeal.size) return;
    const go = h("a", { class: "btn btn-primary", href: `#/keberatan/baru/${[...chosenForAppeal].map(encodeURIComponent).join(",")}` },
      `Ajukan keberatan (${chosenForAppeal.size} kegiatan)`);
    replace(appealBar, h("span", null, "Kegiatan ditolak yang dipilih akan diajukan keberatan bersama."), go);
  }

  /** The month's minutes are the server's (the same figures as Bulan Saya), not a sum of the
   *  entries in hand: one source for approved minutes per employee-month. */
  function renderEntries(entries, mins) {
    const count = (st) => entries.filter((e) => e.status === st).length;
    replace(summary,
      stat("Disetujui", minutes(mins.approved || 0), "st-approved", "sum-approved"),
      stat("Menunggu validasi", minutes(mins.pending || 0), "st-submitted", "sum-pending"),
      stat("Dikembalikan", `${count("returned")} kegiatan`, "st-returned", "sum-returned"),
      stat("Ditolak", `${count("rejected")} kegiatan`, "st-rejected", "sum-rejected"));
    chosenForAppeal.clear();
    drawAppealBar();
    if (entries.length === 0) {
      replace(listBody, h("p", { class: "empty" }, "Belum ada kegiatan pada bulan ini."));
      return;
    }
    replace(listBody, h("ul", { class: "entry-list", "aria-label": listTitle.textContent }, entries.map(entryCard)));
  }

  function entryCard(e) {
    const st = entryState(e, appealsByEntry.get(e.id));
    const when = `${shortDate(e.date)} ${e.start_time}`;
    const buttons = [];
    const add = (label, aria, fn, cls = "btn-ghost") => {
      const b = h("button", { type: "button", class: `btn btn-small ${cls}`, "aria-label": `${aria} ${when}` }, label);
      b.addEventListener("click", () => fn(b));
      buttons.push(b);
    };
    if (e.status === "submitted" && !e.awaiting_confirmation) {
      add("Ubah", "Ubah kegiatan", () => startEdit(e));
      add("Tarik", "Tarik kegiatan", (b) => withdrawEntry(e, b));
    }
    if (["returned", "draft", "withdrawn"].includes(e.status)) {
      add(e.status === "returned" ? "Perbaiki" : e.status === "draft" ? "Ubah / ajukan" : "Ajukan lagi", "Ubah kegiatan", () => startEdit(e));
    }
    if (e.status === "draft") add("Hapus", "Hapus draf", (b) => deleteDraft(e, b));
    if (["draft", "submitted", "returned", "withdrawn"].includes(e.status)) add("Bukti", "Bukti kegiatan", () => evidenceFor(e, card));
    add("Pakai lagi", "Pakai lagi kegiatan", () => reuse(e));
    let pick = null;
    if (e.status === "rejected" && !st.appealed) {
      pick = h("input", { type: "checkbox", class: "pick", "aria-label": `Pilih untuk keberatan: ${when}` });
      pick.addEventListener("change", () => {
        if (pick.checked) chosenForAppeal.add(e.id);
        else chosenForAppeal.delete(e.id);
        drawAppealBar();
      });
      const one = h("a", { class: "btn btn-small btn-reject", href: `#/keberatan/baru/${encodeURIComponent(e.id)}` }, "Ajukan keberatan");
      buttons.push(one);
    }
    if (st.appealId) {
      buttons.push(h("a", { class: "btn btn-small btn-ghost", href: `#/keberatan/${encodeURIComponent(st.appealId)}` }, "Lihat keberatan"));
    }
    const card = h("li", { class: "entry-card", dataset: { entryId: String(e.id), status: String(e.status) } },
      h("div", { class: "ec-when" }, pick ? h("label", { class: "pick-label" }, pick) : null,
        h("span", { class: "strong", title: longDate(e.date) }, dayLabel(e.date)),
        h("span", { class: "nowrap" }, `${e.start_time}–${e.end_time}`)),
      h("div", { class: "ec-main" },
        h("div", { class: "qi-duty" }, e.duty_description || ""),
        e.description ? h("div", { class: "muted small" }, e.description) : null,
        h("div", { class: "small" }, `${number(e.volume)} ${e.output_unit || ""} · `, h("strong", null, minutes(e.credited_minutes))),
        e.reason ? h("div", { class: "reason small" }, `Alasan: ${e.reason}`) : null,
        st.notes.map((n) => h("div", { class: "notice small superseded" }, n)),
        unsentFiles.has(e.id) ? retryUploadButton(e) : null),
      h("div", { class: "ec-status" }, h("span", { class: `badge ${st.cls}` }, st.label)),
      h("div", { class: "ec-actions" }, buttons));
    return card;
  }

  function retryUploadButton(e) {
    const b = h("button", { type: "button", class: "btn btn-small btn-return" }, "Unggah ulang bukti");
    b.addEventListener("click", () => busy(b, "Mengunggah…", async () => {
      await uploadFiles(e.id, unsentFiles.get(e.id) || []);
      await loadEntries();
    }));
    return b;
  }

  function reuse(e) {
    if (editing) stopEdit();
    wantedDuty = String(e.duty_id);
    if (!dateInput.iso) dateInput.iso = today;
    volumeInput.value = String(e.volume);
    descInput.value = e.description || "";
    startInput.value = "";
    endInput.value = "";
    loadDuties();
    form.scrollIntoView({ block: "start" });
    startInput.focus({ preventScroll: true });
    remember();
  }

  async function evidenceFor(e, card) {
    let panel = card.querySelector(".evidence-panel");
    if (panel) {
      panel.remove();
      return;
    }
    panel = h("div", { class: "evidence-panel" }, h("p", { class: "muted small" }, "Memuat bukti…"));
    card.append(panel);
    const input = h("input", { type: "file", accept: "image/jpeg,image/png,application/pdf", class: "file-input", id: newId("ev") });
    const cam = h("input", { type: "file", accept: "image/*", capture: "environment", class: "file-input", id: newId("evc") });
    const alert = alertBox();
    async function draw() {
      try {
        const data = await api.get(`/api/activity/entries/${encodeURIComponent(e.id)}/evidence`);
        const list = (data && data.evidence) || [];
        replace(panel, alert,
          list.length ? h("ul", { class: "file-list" }, list.map((f) => h("li", null, evidenceLink(`/api/activity${f.url}`, f.filename))))
            : h("p", { class: "muted small" }, "Belum ada bukti."),
          h("div", { class: "actions actions-start" },
            h("label", { class: "btn btn-small btn-ghost file-btn", for: cam.id }, "Foto"), cam,
            h("label", { class: "btn btn-small btn-ghost file-btn", for: input.id }, "Pilih berkas"), input));
      } catch (err) {
        replace(panel, alert);
        showError(panel, alert, err);
      }
    }
    const onPick = async (inp) => {
      const chosen = [...inp.files];
      inp.value = "";
      for (const f of chosen) {
        try {
          await api.upload(`/api/activity/entries/${encodeURIComponent(e.id)}/evidence`, f);
          toast(`Bukti ${f.name} diunggah.`);
        } catch (err) {
          showError(panel, alert, err);
        }
      }
      await draw();
    };
    input.addEventListener("change", () => onPick(input));
    cam.addEventListener("change", () => onPick(cam));
    await draw();
  }

  async function withdrawEntry(entry, button) {
    const ok = await confirmDialog({
      title: "Tarik kegiatan ini?",
      text: `${longDate(entry.date)} ${entry.start_time}–${entry.end_time}: ${entry.duty_description}. Kegiatan yang ditarik tidak divalidasi; Anda dapat mengajukannya lagi.`,
      confirm: "Tarik", danger: true,
    });
    if (!ok) {
      button.focus();
      return;
    }
    try {
      await busy(button, "Menarik…", () => api.post(`/api/activity/entries/${encodeURIComponent(entry.id)}/withdraw`, {}));
      toast("Penarikan dikirim.");
      await loadEntries();
    } catch (err) {
      showError(listBody, listAlert, err);
    }
  }

  async function deleteDraft(entry, button) {
    const ok = await confirmDialog({ title: "Hapus draf ini?", text: `${longDate(entry.date)} ${entry.start_time}–${entry.end_time}.`, confirm: "Hapus", danger: true });
    if (!ok) return;
    try {
      await busy(button, "Menghapus…", () => api.del(`/api/activity/entries/${encodeURIComponent(entry.id)}`));
      toast("Draf dihapus.");
      await loadEntries();
    } catch (err) {
      showError(listBody, listAlert, err);
    }
  }

  // ---- wiring ---------------------------------------------------------------------------
  dateInput.addEventListener("change", () => {
    loadDuties();
    const month = dateInput.iso.slice(0, 7);
    if (month && month !== monthInput.value) {
      setMonth(month);
      loadEntries();
    }
    remember();
  });
  for (const el of [dutySelect, startInput, endInput, volumeInput, descInput]) {
    el.addEventListener("input", () => { updateCredit(); drawQueue(); remember(); });
    el.addEventListener("change", () => { updateCredit(); remember(); });
  }
  camera.addEventListener("change", () => pickFiles(camera));
  picker.addEventListener("change", () => pickFiles(picker));
  monthInput.addEventListener("change", loadEntries);
  const stopNet = api.onNetwork((s) => {
    if (s.online && drafts.pending(emp).some((i) => i.state === "waiting")) flushOutbox();
  });

  restoreForm();
  drawQueue();
  drawOutbox();
  await Promise.all([loadDuties(), loadEntries()]);
  if (drafts.pending(emp).some((i) => i.state === "waiting")) flushOutbox();
  return () => {
    abort.abort();
    clearTimeout(previewTimer);
    clearTimeout(retryTimer);
    stopNet();
  };
}

function stat(label, value, cls, id) {
  return h("div", { class: `stat ${cls}`, id },
    h("span", { class: "stat-label" }, label),
    h("strong", { class: "stat-value" }, value));
}
