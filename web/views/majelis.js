// Majelis banding: the cases the board hears that this member sits on (never their own, nor one
// against their own rejection or first-level decision: the API leaves those out and refuses
// them), open ones first; each opens on the appeal's page with both sides, the entries with
// their evidence, the history and — for a seated member — the decision with written reasoning.
import * as api from "../api.js";
import { h, replace, alertBox, showError } from "../dom.js";
import { appealCard, renderAppeal } from "./keberatan.js";

export async function render(container, { params }) {
  if (params[0]) return renderAppeal(container, params[0], { back: "#/majelis", backLabel: "Perkara majelis" });
  const alert = alertBox();
  const body = h("div");
  replace(container, h("h1", { tabindex: "-1" }, "Majelis Banding"),
    h("p", { class: "muted" }, "Keberatan yang diperiksa majelis banding dan dapat Anda putus. Putusan majelis bersifat final."),
    alert, body);
  try {
    const data = await api.retrying(() => api.get("/api/approval/appeals"));
    const cases = ((data && data.appeals) || []).filter((a) => (a.my_roles || []).includes("board"));
    const open = cases.filter((a) => a.status === "open");
    const decided = cases.filter((a) => a.status !== "open");
    const list = (items, id, empty) => items.length
      ? h("ul", { class: "appeal-list", id }, items.map((a) => appealCard(a, `#/majelis/${encodeURIComponent(a.id)}`)))
      : h("p", { class: "empty", id }, empty);
    replace(body,
      h("section", { class: "card" }, h("h2", null, `Menunggu putusan (${open.length})`),
        list(open, "board-open", "Tidak ada perkara yang menunggu putusan majelis.")),
      h("section", { class: "card" }, h("h2", null, `Sudah diputus (${decided.length})`),
        list(decided, "board-decided", "Belum ada perkara yang diputus.")));
  } catch (err) {
    showError(container, alert, err);
  }
}
