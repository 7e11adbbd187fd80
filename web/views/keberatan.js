// Keberatan (appeals): an employee files one on rejected entries and follows it (first level,
// the rejecting supervisor's comment, escalation to the board, the decision with its reasoning);
// the rejecting supervisor writes their comment; the first level — and, at the board, a seated
// member (majelis.js) — reads both sides and decides with written reasoning.
//
//   #/keberatan               the appeals I am part of, those waiting for me first
//   #/keberatan/baru/<ids>    file an appeal on these rejected entries (comma-separated ids)
//   #/keberatan/<id>          one appeal
import * as api from "../api.js";
import * as drafts from "../drafts.js";
import { h, replace, field, alertBox, showError, clearErrors, busy, toast, confirmDialog, newId } from "../dom.js";
import {
  minutes, number, dayLabel, nip, date, dateTime, monthName,
  APPEAL_LEVEL, APPEAL_OUTCOME, BOARD_REASON, TRAIL_STEP,
} from "../format.js";
import { evidenceLink } from "./shared.js";

const ACTION_TEXT = {
  decide: "menunggu putusan Anda",
  comment: "menunggu tanggapan Anda",
  escalate: "dapat Anda teruskan ke majelis",
  add_evidence: "dapat Anda tambah buktinya",
};

export async function render(container, { account, params }) {
  if (params[0] === "baru") return renderNew(container, account, (params[1] || "").split(",").filter(Boolean));
  if (params[0]) return renderAppeal(container, params[0], { back: "#/keberatan", backLabel: "Semua keberatan" });
  return renderList(container, account);
}

export function appealStatus(a) {
  if (a.status === "open") return [`diperiksa ${a.level === "board" ? "majelis banding" : "tingkat pertama"}`, "st-submitted"];
  if (a.outcome === "overturned") return ["dikabulkan", "st-approved"];
  return [a.level === "board" ? "penolakan dikuatkan majelis" : "penolakan dikuatkan", "st-rejected"];
}

/** One appeal as a line of a list, linking to its page. */
export function appealCard(a, href) {
  const [label, cls] = appealStatus(a);
  return h("li", { class: "appeal-card", dataset: { appealId: a.id } },
    h("a", { href, class: "appeal-link" },
      h("span", { class: "strong" }, `${a.employee_name || "Pegawai"} — ${a.entry_count} kegiatan ditolak ${a.original_decider_name || ""}`),
      h("span", { class: "muted small" }, `diajukan ${dateTime(a.filed_at)}${a.month ? ` · ${monthName(...a.month.split("-"))}` : ""}`
        + ` · ${APPEAL_LEVEL[a.level] || a.level}`)),
    h("span", { class: `badge ${cls}` }, label),
    (a.my_actions || []).length ? h("span", { class: "badge st-returned" }, (a.my_actions || []).map((x) => ACTION_TEXT[x] || x).join(", ")) : null);
}

async function renderList(container, account) {
  const alert = alertBox();
  const body = h("div", { "aria-live": "polite" });
  replace(container, h("h1", { tabindex: "-1" }, "Keberatan"),
    h("p", { class: "muted" }, "Keberatan atas kegiatan yang ditolak: diperiksa atasan dari atasan Anda, lalu majelis banding bila perlu."),
    alert, body);
  try {
    const data = await api.retrying(() => api.get("/api/approval/appeals"));
    const appeals = (data && data.appeals) || [];
    const waiting = appeals.filter((a) => (a.my_actions || []).some((x) => x === "decide" || x === "comment"));
    const mine = appeals.filter((a) => a.employee_id === account.employee_id);
    const others = appeals.filter((a) => !waiting.includes(a) && !mine.includes(a));
    const section = (title, id, list, empty) => h("section", { class: "card", id },
      h("h2", null, `${title} (${list.length})`),
      list.length ? h("ul", { class: "appeal-list" }, list.map((a) => appealCard(a, `#/keberatan/${encodeURIComponent(a.id)}`)))
        : h("p", { class: "empty" }, empty));
    replace(body,
      section("Menunggu tindakan Anda", "appeals-waiting", waiting, "Tidak ada keberatan yang menunggu tanggapan atau putusan Anda."),
      section("Keberatan saya", "appeals-mine", mine, "Anda belum pernah mengajukan keberatan. Keberatan diajukan dari kegiatan yang ditolak (menu Kegiatan)."),
      others.length ? section("Lainnya", "appeals-other", others, "") : null);
  } catch (err) {
    showError(container, alert, err);
  }
}

// ---- filing ------------------------------------------------------------------------------------

async function renderNew(container, account, ids) {
  const alert = alertBox();
  // The idempotency key lives with the typed reasons: a retry after a lost answer files nothing twice.
  const draft = drafts.loadAppeal(account.employee_id, ids);
  const keep = () => drafts.saveAppeal(account.employee_id, ids, draft);
  const reasons = h("textarea", { rows: "6", maxlength: "5000", required: true });
  reasons.value = draft.reasons || "";
  const list = h("ul", { class: "entry-list" });
  const submit = h("button", { type: "submit", class: "btn btn-primary", id: "file-appeal" }, "Ajukan keberatan");
  const form = h("form", { novalidate: true, class: "card", "aria-labelledby": "new-appeal" },
    h("h2", { id: "new-appeal" }, "Kegiatan yang diajukan keberatan"), list, alert,
    field("Alasan keberatan", reasons, { name: "reasons", hint: "Jelaskan mengapa penolakan tidak tepat; lampirkan bukti setelah keberatan diajukan." }),
    h("div", { class: "actions" }, h("a", { href: "#/kegiatan", class: "btn btn-ghost" }, "Batal"), submit));
  replace(container, h("h1", { tabindex: "-1" }, "Ajukan keberatan"), form);
  reasons.addEventListener("input", () => { draft.reasons = reasons.value; keep(); });

  const entries = await Promise.all(ids.map((id) => api.get(`/api/activity/entries/${encodeURIComponent(id)}`).catch(() => null)));
  replace(list, entries.map((e, i) => e
    ? h("li", { class: "entry-card" },
      h("div", { class: "ec-when" }, h("strong", null, dayLabel(e.date)), h("span", null, `${e.start_time}–${e.end_time}`)),
      h("div", { class: "ec-main" }, h("div", { class: "qi-duty" }, e.duty_description),
        h("div", { class: "small" }, `${number(e.volume)} ${e.output_unit} · ${minutes(e.credited_minutes)}`),
        e.reason ? h("div", { class: "reason small" }, `Alasan penolakan: ${e.reason}`) : null))
    : h("li", { class: "muted" }, `Kegiatan ${ids[i].slice(0, 8)}… tidak ditemukan`)));

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(form, alert);
    if (!reasons.value.trim()) {
      showError(form, alert, { message: "Alasan keberatan wajib diisi.", fields: { reasons: "Wajib diisi" } });
      return;
    }
    try {
      const result = await busy(submit, "Mengajukan…", () => api.retrying(
        () => api.post("/api/approval/appeals", { entry_ids: ids, reasons: reasons.value.trim() }, { idempotencyKey: draft.key })));
      drafts.clearAppeal(account.employee_id, ids);
      const filed = (result && result.appeals) || [];
      toast(filed.length > 1 ? `${filed.length} keberatan diajukan (satu per atasan penolak).` : "Keberatan diajukan.");
      location.hash = filed.length === 1 ? `#/keberatan/${encodeURIComponent(filed[0].id)}` : "#/keberatan";
    } catch (err) {
      showError(form, alert, err);
    }
  });
}

// ---- one appeal --------------------------------------------------------------------------------

export async function renderAppeal(container, id, { back, backLabel }) {
  const alert = alertBox();
  replace(container, h("p", null, h("a", { href: back }, `← ${backLabel}`)), h("h1", { tabindex: "-1" }, "Keberatan"), alert);
  const path = `/api/approval/appeals/${encodeURIComponent(id)}`;
  let a;
  try {
    a = await api.get(path);
  } catch (err) {
    showError(container, alert, err);
    return;
  }
  const trail = await api.get(`${path}/trail`).then((t) => t.trail).catch(() => null); // not for the rejecting supervisor
  const entryEvidence = await Promise.all((a.entries || []).map((e) =>
    api.get(`/api/activity/entries/${encodeURIComponent(e.entry_id)}/evidence`).then((x) => x.evidence || []).catch(() => [])));
  const [label, cls] = appealStatus(a);
  const reload = () => renderAppeal(container, id, { back, backLabel });

  replace(container,
    h("p", null, h("a", { href: back }, `← ${backLabel}`)),
    h("div", { class: "view-head" },
      h("h1", { tabindex: "-1" }, `Keberatan ${a.employee_name || ""}`),
      h("span", { class: `badge ${cls}`, id: "appeal-status" }, label)),
    alert,
    h("section", { class: "card" },
      h("dl", { class: "facts" },
        h("dt", null, "Pegawai"), h("dd", null, `${a.employee_name || "—"} (NIP ${nip(a.employee_nip)})`),
        h("dt", null, "Atasan yang menolak"), h("dd", null, a.original_decider_name || "—"),
        h("dt", null, "Tingkat pertama"), h("dd", null, a.first_level_decider_name || "— (langsung ke majelis)"),
        h("dt", null, "Diajukan"), h("dd", null, dateTime(a.filed_at)),
        a.first_level_due ? [h("dt", null, "Batas putusan tingkat pertama"), h("dd", null, date(a.first_level_due))] : null,
        a.level === "board" ? [h("dt", null, "Di majelis banding"), h("dd", null, `sejak ${dateTime(a.escalated_at)} — ${BOARD_REASON[a.board_reason] || a.board_reason || ""}`)] : null,
        a.status !== "open" ? [h("dt", null, "Putusan"), h("dd", { id: "appeal-outcome" }, `${APPEAL_OUTCOME[a.outcome] || a.outcome} oleh ${a.decided_by_name || "—"}, ${dateTime(a.decided_at)}`)] : null)),
    h("section", { class: "card sides" },
      h("div", { class: "side" }, h("h2", null, "Alasan keberatan pegawai"), h("p", { class: "prewrap", id: "appeal-reasons" }, a.reasons),
        (a.evidence || []).length ? h("div", null, h("h3", null, "Bukti keberatan"),
          h("ul", { class: "file-list" }, a.evidence.map((f) => h("li", null, evidenceLink(`/api/approval${f.url}`, f.filename))))) : null),
      h("div", { class: "side", id: "appeal-comments" }, h("h2", null, "Tanggapan atasan yang menolak"),
        (a.comments || []).length
          ? a.comments.map((c) => h("blockquote", { class: "comment" }, h("p", { class: "prewrap" }, c.text),
            h("footer", { class: "muted small" }, `${c.author_name || "Atasan"}, ${dateTime(c.created_at)}`)))
          : h("p", { class: "muted" }, "Belum ada tanggapan."))),
    h("section", { class: "card" }, h("h2", null, `Kegiatan (${(a.entries || []).length})`),
      h("ul", { class: "entry-list", id: "appeal-entries" }, (a.entries || []).map((e, i) => h("li", { class: "entry-card" },
        h("div", { class: "ec-when" }, h("strong", null, dayLabel(e.date)), h("span", null, `${e.start_time || ""}–${e.end_time || ""}`)),
        h("div", { class: "ec-main" },
          h("div", { class: "qi-duty" }, e.duty_description || ""),
          e.description ? h("div", { class: "muted small" }, e.description) : null,
          h("div", { class: "small" }, `${number(e.volume)} ${e.output_unit || ""} · ${minutes(e.credited_minutes)}`),
          h("div", { class: "reason small" }, `Ditolak ${e.rejected_by_name || ""} (${dateTime(e.rejected_at)}): ${e.rejection_reason || ""}`),
          entryEvidence[i].length ? h("ul", { class: "file-list" }, entryEvidence[i].map((f) => h("li", null, "Bukti: ",
            evidenceLink(`/api/activity${f.url}`, f.filename)))) : h("div", { class: "muted small" }, "Tanpa bukti terlampir.")),
        h("div", { class: "ec-status" }, h("span", { class: `badge ${e.status === "overturned" ? "st-approved" : "st-rejected"}` },
          e.status === "overturned" ? "disetujui setelah banding" : "ditolak")))))),
    (a.decisions || []).length ? h("section", { class: "card", id: "appeal-decisions" }, h("h2", null, "Putusan"),
      a.decisions.map((d) => h("div", { class: "decision" },
        h("p", null, h("strong", null, `${APPEAL_LEVEL[d.level] || d.level}: ${APPEAL_OUTCOME[d.outcome] || d.outcome}`),
          ` — ${d.decided_by_name || ""}, ${dateTime(d.decided_at)}`),
        h("p", { class: "prewrap" }, `Pertimbangan: ${d.reasoning}`)))) : null,
    actionsPanel(a, path, alert, reload),
    trail ? h("section", { class: "card", id: "appeal-trail" }, h("h2", null, "Riwayat"),
      h("ol", { class: "trail" }, trail.map((t) => h("li", null,
        h("span", { class: "strong" }, TRAIL_STEP[t.step] || t.step),
        ` — ${t.actor_name || (t.actor_id ? "" : "sistem (batas waktu)")}, ${dateTime(t.at)}`,
        t.step === "escalated" && t.details && t.details.reason ? ` (${BOARD_REASON[t.details.reason] || t.details.reason})` : "",
        t.step === "decided" && t.details ? ` — ${APPEAL_OUTCOME[t.details.outcome] || t.details.outcome}` : "")))) : null);
}

function actionsPanel(a, path, alert, reload) {
  const acts = a.my_actions || [];
  if (!acts.length) return null;
  const parts = [];
  if (acts.includes("decide")) {
    const name = newId("outcome");
    const over = h("input", { type: "radio", name, value: "overturned", id: `${name}-o` });
    const up = h("input", { type: "radio", name, value: "upheld", id: `${name}-u` });
    const reasoning = h("textarea", { rows: "5", maxlength: "5000" });
    const go = h("button", { type: "submit", class: "btn btn-primary", id: "decide-appeal" }, "Putuskan");
    const form = h("form", { novalidate: true, class: "action-form", id: "decide-form" },
      h("h2", null, a.level === "board" ? "Putusan majelis banding" : "Putusan tingkat pertama"),
      h("fieldset", { class: "choices", dataset: { field: "outcome" } }, h("legend", null, "Putusan"),
        h("label", { for: over.id, class: "choice" }, over, " Kabulkan: kegiatan disetujui, menitnya dihitung"),
        h("label", { for: up.id, class: "choice" }, up, " Kuatkan penolakan"),
        h("p", { class: "field-error", hidden: true })),
      field("Pertimbangan (wajib)", reasoning, { name: "reasoning" }),
      h("div", { class: "actions" }, go));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      clearErrors(form, alert);
      const outcome = over.checked ? "overturned" : up.checked ? "upheld" : "";
      const fields = {};
      if (!outcome) fields.outcome = "Pilih putusan";
      if (!reasoning.value.trim()) fields.reasoning = "Pertimbangan wajib ditulis";
      if (Object.keys(fields).length) {
        showError(form, alert, { message: "Lengkapi putusan.", fields });
        return;
      }
      try {
        await busy(go, "Memutus…", () => api.post(`${path}/decide`, { outcome, reasoning: reasoning.value.trim() }));
        toast(outcome === "overturned" ? "Keberatan dikabulkan." : "Penolakan dikuatkan.");
        await reload();
      } catch (err) {
        showError(form, alert, err);
      }
    });
    parts.push(form);
  }
  if (acts.includes("comment")) {
    const text = h("textarea", { rows: "4", maxlength: "5000" });
    const go = h("button", { type: "submit", class: "btn btn-primary", id: "send-comment" }, "Kirim tanggapan");
    const form = h("form", { novalidate: true, class: "action-form", id: "comment-form" },
      h("h2", null, "Tanggapan Anda"),
      h("p", { class: "muted small" }, "Jelaskan alasan penolakan Anda; tanggapan ditunjukkan kepada yang memutus keberatan."),
      field("Tanggapan", text, { name: "text" }), h("div", { class: "actions" }, go));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      clearErrors(form, alert);
      if (!text.value.trim()) {
        showError(form, alert, { message: "Tanggapan wajib diisi.", fields: { text: "Wajib diisi" } });
        return;
      }
      try {
        await busy(go, "Mengirim…", () => api.post(`${path}/comments`, { text: text.value.trim() }, { idempotencyKey: api.newKey() }));
        toast("Tanggapan dikirim.");
        await reload();
      } catch (err) {
        showError(form, alert, err);
      }
    });
    parts.push(form);
  }
  if (acts.includes("escalate")) {
    const go = h("button", { type: "button", class: "btn btn-return", id: "escalate-appeal" }, "Teruskan ke majelis banding");
    go.addEventListener("click", async () => {
      const ok = await confirmDialog({
        title: "Teruskan ke majelis banding?",
        text: a.status === "open" ? "Tingkat pertama belum memutus; majelis banding akan memeriksa keberatan ini sebagai gantinya."
          : "Tingkat pertama menguatkan penolakan. Majelis banding akan memeriksa lagi; putusan majelis bersifat final.",
        confirm: "Teruskan",
      });
      if (!ok) return;
      try {
        await busy(go, "Meneruskan…", () => api.post(`${path}/escalate`, {}));
        toast("Keberatan diteruskan ke majelis banding.");
        await reload();
      } catch (err) {
        showError(go.parentElement, alert, err);
      }
    });
    parts.push(h("div", { class: "action-form" }, h("h2", null, "Majelis banding"),
      h("p", { class: "muted small" }, "Anda dapat meneruskan keberatan ini ke majelis banding."), go));
  }
  if (acts.includes("add_evidence")) {
    const input = h("input", { type: "file", accept: "image/jpeg,image/png,application/pdf", class: "file-input", id: newId("apev") });
    input.addEventListener("change", async () => {
      const f = input.files[0];
      input.value = "";
      if (!f) return;
      try {
        await api.upload(`${path}/evidence`, f, { idempotencyKey: api.newKey() });
        toast(`Bukti ${f.name} dilampirkan.`);
        await reload();
      } catch (err) {
        showError(input.parentElement, alert, err);
      }
    });
    parts.push(h("div", { class: "action-form" }, h("h2", null, "Bukti tambahan"),
      h("label", { class: "btn btn-ghost file-btn", for: input.id }, "Lampirkan bukti (foto/PDF)"), input));
  }
  return h("section", { class: "card actions-card", id: "appeal-actions" }, parts);
}

