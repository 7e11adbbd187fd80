// Tim Saya (placeholder while the view is built).
import { h, replace } from "../dom.js";

export async function render(container) {
  replace(container, h("h1", { tabindex: "-1" }, "Tim Saya"));
}
