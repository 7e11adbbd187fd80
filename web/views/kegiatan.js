// Kegiatan Harian: record a day's work against a duty of one's position, see the credited
// minutes before submitting, and follow this month's entries and their validation.
import * as api from "../api.js";
import { h, replace, field, alertBox, showError, clearErrors, busy, toast } from "../dom.js";
import {
  todayWib, hhmmToMinutes, minutes, number, longDate, shortDate, statusLabel, monthName,
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

export async function render(container) {
  const today = todayWib();
  let duties = [];
  let previewSeq = 0;
  let previewTimer = null;
  let listSeq = 0;

  // ---- form -----------------------------------------------------------------------------
  const dateInput = h("input", { type: "date", value: today, max: today, required: true });
  const dutySelect = h("select", { required: true });
  const startInput = h("input", { type: "time", step: "60", required: true });
  const endInput = h("input", { type: "time", step: "60", required: true });
  const volumeInput = h("input", { type: "number", min: "1", step: "1", inputmode: "numeric", required: true, value: "1" });
  const unitLabel = h("span", { class: "unit", id: "volume-unit" });
  const descInput = h("textarea", { rows: "3", maxlength: "2000", required: true });
  const dutyNote = h("p", { class: "muted small", role: "status" });
  const credit = h("div", { class: "credit", "aria-live": "polite", id: "credit" });
  const formAlert = alertBox();
  const submit = h("button", { type: "submit", class: "btn btn-primary" }, "Ajukan");
  const cancelEdit = h("button", { type: "button", class: "btn btn-ghost", hidden: true }, "Batal memperbaiki");
  const formTitle = h("h2", { id: "entry-form-title" }, "Catat kegiatan");
  const editNote = h("p", { class: "notice", hidden: true, id: "edit-note" });
  let editing = null; // the entry being revised (returned, draft or withdrawn), else null
  let wantedDuty = ""; // duty to select once the duties of the chosen date are loaded

  const volumeField = field("Volume (jumlah keluaran)", volumeInput, { name: "volume" });
  volumeField.querySelector("input").after(unitLabel);
  volumeInput.setAttribute("aria-describedby", `${volumeInput.getAttribute("aria-describedby")} volume-unit`);

  const form = h(
    "form",
    { class: "entry-form", novalidate: true, "aria-labelledby": "entry-form-title" },
    formTitle,
    editNote,
    formAlert,
    h("div", { class: "grid-2" },
      field("Tanggal", dateInput, { name: "date" }),
      field("Uraian tugas", dutySelect, { name: "duty_id", className: "span-2" })),
    dutyNote,
    h("div", { class: "grid-3" },
      field("Jam mulai", startInput, { name: "start_time" }),
      field("Jam selesai", endInput, { name: "end_time" }),
      volumeField),
    field("Keterangan kegiatan", descInput, { name: "description", hint: "Apa yang dikerjakan, singkat dan jelas." }),
    credit,
    h("div", { class: "actions" }, cancelEdit, submit),
  );

  // ---- month list -----------------------------------------------------------------------
  const monthInput = h("input", { type: "month", value: today.slice(0, 7), max: today.slice(0, 7) });
  const listAlert = alertBox();
  const summary = h("div", { class: "summary", "aria-live": "polite" });
  const listBody = h("div", { class: "entries" });
  const listTitle = h("h2", { id: "entries-title" }, "Kegiatan bulan ini");

  replace(
    container,
    h("h1", { tabindex: "-1" }, "Kegiatan Harian"),
    h("section", { class: "card" }, form),
    h("section", { class: "card", "aria-labelledby": "entries-title" },
      h("div", { class: "card-head" }, listTitle, field("Bulan", monthInput, { name: "month", className: "inline" })),
      listAlert, summary, listBody),
  );

  // ---- duties ---------------------------------------------------------------------------
  function selectedDuty() {
    return duties.find((d) => String(d.id) === dutySelect.value) || null;
  }

  async function loadDuties() {
    const day = dateInput.value;
    const keep = wantedDuty || dutySelect.value;
    wantedDuty = "";
    replace(dutySelect, h("option", { value: "" }, "Memuat uraian tugas…"));
    dutySelect.disabled = true;
    dutyNote.textContent = "";
    duties = [];
    if (!day) {
      replace(dutySelect, h("option", { value: "" }, "Pilih tanggal dahulu"));
      updateCredit();
      return;
    }
    try {
      const data = await api.get(`/api/activity/duties?date=${encodeURIComponent(day)}`);
      if (dateInput.value !== day) return; // the date changed meanwhile
      duties = Array.isArray(data && data.duties) ? data.duties : [];
      const options = duties.map((d) =>
        h("option", { value: String(d.id) }, `${d.description} — ${d.norma_waktu} menit/${d.output_unit}`),
      );
      if (duties.length === 0) {
        replace(dutySelect, h("option", { value: "" }, "Tidak ada uraian tugas"));
        dutyNote.textContent = "Tidak ada uraian tugas untuk jabatan Anda pada tanggal ini.";
      } else {
        replace(dutySelect, h("option", { value: "" }, "— Pilih uraian tugas —"), options);
        dutySelect.disabled = false;
        if (duties.some((d) => String(d.id) === keep)) dutySelect.value = keep;
      }
    } catch (err) {
      replace(dutySelect, h("option", { value: "" }, "Gagal memuat uraian tugas"));
      showError(form, formAlert, err);
    }
    updateCredit();
  }

  // ---- credited minutes -----------------------------------------------------------------
  function draft(forPreview) {
    const v = volumeInput.value.trim();
    const desc = descInput.value.trim();
    return {
      date: dateInput.value,
      start_time: startInput.value.slice(0, 5),
      end_time: endInput.value.slice(0, 5),
      duty_id: dutySelect.value,
      volume: /^\d+$/.test(v) ? Number(v) : v === "" ? null : Number.NaN,
      // The preview checks the rules that decide the minutes; the text is not one of them, so
      // an unfinished description must not hide the figure.
      description: forPreview && !desc ? "(pratinjau)" : desc,
    };
  }

  function updateCredit() {
    const duty = selectedDuty();
    unitLabel.textContent = duty ? duty.output_unit : "";
    const d = draft(false);
    const calc = duty ? creditedMinutes(d.volume, Number(duty.norma_waktu), d.start_time, d.end_time) : null;
    renderCredit(calc, duty, d, null);
    clearTimeout(previewTimer);
    // The preview cannot leave out the entry being revised (it would overlap itself): while
    // revising, the client's own figure is shown and the save reports any broken rule.
    if (calc && calc.span > 0 && previewAvailable && d.date && !editing) {
      previewTimer = setTimeout(() => runPreview(calc, duty), 250);
    }
  }

  function renderCredit(calc, duty, d, preview) {
    if (!duty || !calc) {
      replace(credit,
        h("span", { class: "credit-label" }, "Menit diakui"),
        h("strong", { class: "credit-value", id: "credited-minutes" }, "—"),
        h("span", { class: "muted small" }, "Pilih uraian tugas, isi jam dan volume untuk melihat menit yang diakui."));
      credit.className = "credit";
      return;
    }
    if (calc.span <= 0) {
      replace(credit,
        h("span", { class: "credit-label" }, "Menit diakui"),
        h("strong", { class: "credit-value", id: "credited-minutes" }, "—"),
        h("span", { class: "warn-text small" }, "Jam selesai harus setelah jam mulai."));
      credit.className = "credit credit-warn";
      return;
    }
    const value = preview && Number.isInteger(preview.credited_minutes) ? preview.credited_minutes : calc.credited;
    const problems = preview && preview.errors ? Object.values(preview.errors) : [];
    replace(credit,
      h("span", { class: "credit-label" }, "Menit diakui"),
      h("strong", { class: "credit-value", id: "credited-minutes", dataset: { minutes: String(value) } }, minutes(value)),
      h("span", { class: "small" },
        `= min(${number(d.volume)} ${duty.output_unit} × ${duty.norma_waktu} menit = ${number(calc.byOutput)} menit, `
        + `${d.start_time}–${d.end_time} = ${number(calc.span)} menit)`),
      h("span", { class: "muted small" },
        preview ? "Diperiksa oleh server." : editing ? "Perkiraan; diperiksa saat disimpan." : "Perkiraan; sedang diperiksa…"),
      problems.length
        ? h("div", { class: "credit-problems" },
          h("span", null, "Perlu diperbaiki sebelum diajukan:"),
          h("ul", null, problems.map((p) => h("li", null, typeof p === "string" ? p : p.message || p.message_en || ""))))
        : null,
    );
    credit.className = problems.length ? "credit credit-warn" : "credit";
  }

  async function runPreview(calc, duty) {
    const seq = ++previewSeq;
    const d = draft(true);
    if (!Number.isInteger(d.volume)) return;
    try {
      const result = await api.post("/api/activity/entries/preview", d);
      if (seq !== previewSeq) return;
      renderCredit(calc, duty, draft(false), result || {});
    } catch (err) {
      if (seq !== previewSeq) return;
      if (err.status === 404 || err.status === 405) previewAvailable = false;
      // Fall back to the client-side figure; the submission reports any rule it breaks.
      renderCredit(calc, duty, draft(false), { credited_minutes: calc.credited, errors: err.status === 422 ? err.fields : {} });
    }
  }

  // ---- submit ---------------------------------------------------------------------------
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(form, formAlert);
    const d = draft(false);
    const missing = {};
    if (!d.date) missing.date = "Wajib diisi";
    if (!d.duty_id) missing.duty_id = "Pilih uraian tugas";
    if (!d.start_time) missing.start_time = "Wajib diisi";
    if (!d.end_time) missing.end_time = "Wajib diisi";
    if (d.volume === null) missing.volume = "Wajib diisi";
    else if (!Number.isInteger(d.volume)) missing.volume = "Harus berupa bilangan bulat";
    if (!d.description) missing.description = "Wajib diisi";
    if (Object.keys(missing).length) {
      showError(form, formAlert, { message: "Data belum lengkap.", fields: missing });
      return;
    }
    if (editing) {
      await saveRevision(d);
      return;
    }
    try {
      const entry = await busy(submit, "Mengajukan…", () => api.post("/api/activity/entries", d));
      toast(`Kegiatan ${shortDate(entry.date)} diajukan: ${minutes(entry.credited_minutes)} menunggu validasi atasan.`);
      startInput.value = endInput.value;
      endInput.value = "";
      descInput.value = "";
      volumeInput.value = "1";
      updateCredit();
      const month = String(entry.date || d.date).slice(0, 7);
      if (monthInput.value !== month) monthInput.value = month;
      await loadEntries();
    } catch (err) {
      showError(form, formAlert, err);
    }
  });

  // ---- revising a returned (or draft / withdrawn) entry ---------------------------------
  async function startEdit(entry) {
    editing = entry;
    clearErrors(form, formAlert);
    formTitle.textContent = `Perbaiki kegiatan ${longDate(entry.date)} ${entry.start_time}–${entry.end_time}`;
    editNote.textContent = entry.reason ? `Alasan dikembalikan: ${entry.reason}` : "";
    editNote.hidden = !entry.reason;
    submit.textContent = "Simpan dan ajukan ulang";
    cancelEdit.hidden = false;
    dateInput.value = entry.date;
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
    submit.textContent = "Ajukan";
    cancelEdit.hidden = true;
    clearErrors(form, formAlert);
    endInput.value = "";
    descInput.value = "";
    volumeInput.value = "1";
    updateCredit();
  }

  async function saveRevision(d) {
    const id = encodeURIComponent(editing.id);
    try {
      const entry = await busy(submit, "Menyimpan…", async () => {
        await api.put(`/api/activity/entries/${id}`, d);
        return api.post(`/api/activity/entries/${id}/submit`, {});
      });
      toast(`Kegiatan ${shortDate(entry.date)} diajukan ulang: ${minutes(entry.credited_minutes)} menunggu validasi atasan.`);
      stopEdit();
      const month = String(entry.date || d.date).slice(0, 7);
      if (monthInput.value !== month) monthInput.value = month;
    } catch (err) {
      showError(form, formAlert, err);
    }
    await loadEntries();
  }

  cancelEdit.addEventListener("click", () => {
    stopEdit();
    submit.focus();
  });

  // ---- list -----------------------------------------------------------------------------
  async function loadEntries() {
    const month = monthInput.value || today.slice(0, 7);
    const seq = ++listSeq;
    const [y, m] = month.split("-");
    listTitle.textContent = `Kegiatan ${monthName(y, m)}`;
    clearErrors(container.querySelector(".card-head") || container, listAlert);
    listBody.setAttribute("aria-busy", "true");
    try {
      const data = await api.get(`/api/activity/entries?month=${encodeURIComponent(month)}`);
      if (seq !== listSeq) return;
      renderEntries(Array.isArray(data && data.entries) ? data.entries : []);
    } catch (err) {
      if (seq !== listSeq) return;
      replace(listBody);
      replace(summary);
      showError(listBody, listAlert, err);
    } finally {
      listBody.removeAttribute("aria-busy");
    }
  }

  function renderEntries(entries) {
    const sum = (status) => entries.filter((e) => e.status === status).reduce((t, e) => t + (Number(e.credited_minutes) || 0), 0);
    const count = (status) => entries.filter((e) => e.status === status).length;
    replace(summary,
      stat("Disetujui", minutes(sum("approved")), "st-approved", "sum-approved"),
      stat("Menunggu validasi", minutes(sum("submitted")), "st-submitted", "sum-pending"),
      stat("Dikembalikan", `${count("returned")} kegiatan`, "st-returned", "sum-returned"),
      stat("Ditolak", `${count("rejected")} kegiatan`, "st-rejected", "sum-rejected"));
    if (entries.length === 0) {
      replace(listBody, h("p", { class: "empty" }, "Belum ada kegiatan pada bulan ini."));
      return;
    }
    const rows = entries.map((e) => {
      const [label, cls] = statusLabel(e.status);
      const withdraw = e.status === "submitted"
        ? h("button", { type: "button", class: "btn btn-small btn-ghost", "aria-label": `Tarik kegiatan ${shortDate(e.date)} ${e.start_time}` }, "Tarik")
        : null;
      if (withdraw) withdraw.addEventListener("click", () => withdrawEntry(e, withdraw));
      const revise = ["returned", "draft", "withdrawn"].includes(e.status)
        ? h("button", { type: "button", class: "btn btn-small btn-ghost", "aria-label": `Perbaiki kegiatan ${shortDate(e.date)} ${e.start_time}` },
          e.status === "returned" ? "Perbaiki" : "Ajukan lagi")
        : null;
      if (revise) revise.addEventListener("click", () => startEdit(e));
      return h("tr", { dataset: { entryId: String(e.id), status: String(e.status) } },
        h("td", { class: "nowrap" }, h("span", { title: longDate(e.date) }, shortDate(e.date))),
        h("td", { class: "nowrap" }, `${e.start_time}–${e.end_time}`),
        h("td", null, h("div", null, e.duty_description || ""), e.description ? h("div", { class: "muted small" }, e.description) : null),
        h("td", { class: "num nowrap" }, `${number(e.volume)} ${e.output_unit || ""}`),
        h("td", { class: "num nowrap" }, number(e.credited_minutes)),
        h("td", null,
          h("span", { class: `badge ${cls}` }, label),
          e.reason ? h("div", { class: "reason small" }, `Alasan: ${e.reason}`) : null),
        h("td", null, withdraw, revise));
    });
    replace(listBody, h("div", { class: "table-wrap" },
      h("table", { class: "table" },
        h("caption", { class: "sr-only" }, listTitle.textContent),
        h("thead", null, h("tr", null,
          h("th", { scope: "col" }, "Tgl"), h("th", { scope: "col" }, "Jam"), h("th", { scope: "col" }, "Uraian tugas / keterangan"),
          h("th", { scope: "col", class: "num" }, "Volume"), h("th", { scope: "col", class: "num" }, "Menit"),
          h("th", { scope: "col" }, "Status"), h("th", { scope: "col" }, h("span", { class: "sr-only" }, "Tindakan")))),
        h("tbody", null, rows))));
  }

  async function withdrawEntry(entry, button) {
    try {
      await busy(button, "Menarik…", () => api.post(`/api/activity/entries/${encodeURIComponent(entry.id)}/withdraw`, {}));
      toast("Kegiatan ditarik.");
      await loadEntries();
    } catch (err) {
      showError(listBody, listAlert, err);
    }
  }

  // ---- wiring ---------------------------------------------------------------------------
  dateInput.addEventListener("change", () => {
    loadDuties();
    const month = dateInput.value.slice(0, 7);
    if (month && month !== monthInput.value) {
      monthInput.value = month;
      loadEntries();
    }
  });
  for (const el of [dutySelect, startInput, endInput, volumeInput]) {
    el.addEventListener("input", updateCredit);
    el.addEventListener("change", updateCredit);
  }
  monthInput.addEventListener("change", loadEntries);

  await Promise.all([loadDuties(), loadEntries()]);
  return () => clearTimeout(previewTimer);
}

function stat(label, value, cls, id) {
  return h("div", { class: `stat ${cls}`, id },
    h("span", { class: "stat-label" }, label),
    h("strong", { class: "stat-value" }, value));
}
