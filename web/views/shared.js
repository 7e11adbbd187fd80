// Small pieces several front-office views use.
import * as api from "../api.js";
import { h, saveBlob, toast } from "../dom.js";

/** A link that downloads a file (evidence, a slip) with the session's token: the API needs the
 *  Authorization header, which a plain link cannot carry. */
export function evidenceLink(path, filename) {
  const a = h("a", { href: "#", class: "evidence-link" }, filename || "berkas");
  a.addEventListener("click", async (ev) => {
    ev.preventDefault();
    try {
      saveBlob(await api.download(path), filename || "bukti");
    } catch (err) {
      toast(err.message, "warn");
    }
  });
  return a;
}

/**
 * The caller's own appeals by entry id ({appeal_id, outcome, status, level}), from approval,
 * which decides them. An entry's own `appeal` field (activity's copy, once it carries one) wins;
 * this fills in until then and for entries whose appeal is still open. Empty when approval
 * cannot be reached: the list still shows, without the appeal marks.
 */
export async function myAppealsByEntry(account) {
  const out = new Map();
  try {
    const data = await api.get("/api/approval/appeals");
    for (const a of (data && data.appeals) || []) {
      if (a.employee_id !== account.employee_id) continue;
      for (const id of a.entry_ids || []) {
        out.set(id, { appeal_id: a.id, outcome: a.status === "open" ? null : a.outcome, status: a.status, level: a.level });
      }
    }
  } catch {
    /* shown without the appeal marks */
  }
  return out;
}
