// Bar charts as SVG built node by node (no innerHTML, no library, no inline style): a strict CSP
// holds and nothing is fetched. Horizontal bars, one row per item, so long Indonesian unit names
// stay readable at 390 px: the label sits above its bar, the value at its end.

const NS = "http://www.w3.org/2000/svg";

function el(tag, attrs = {}, text) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * barChart({title, items: [{label, value, value2?, note?}], format(v) → text, series: [name, name2?]})
 * value2 draws a second, thinner bar (e.g. required vs actual staff, gross vs net).
 */
export function barChart({ title, items, format = String, series = [], highlight = () => false, id }) {
  const max = Math.max(1, ...items.flatMap((i) => [Number(i.value) || 0, Number(i.value2) || 0]));
  const rowH = items.some((i) => i.value2 !== undefined) ? 44 : 34;
  // A narrower drawing on a phone, so the 12 px labels stay 12 px at 390 px.
  const width = window.innerWidth < 640 ? 360 : 600;
  const height = 12 + items.length * rowH + (series.length ? 22 : 0);
  const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img", "aria-label": title, id });
  svg.append(el("title", {}, title));
  items.forEach((item, n) => {
    const y = 8 + n * rowH;
    const hot = highlight(item);
    svg.append(el("text", { x: 0, y: y + 10, class: hot ? "chart-label chart-hot" : "chart-label" }, item.label));
    const w = Math.max(1, Math.round(((Number(item.value) || 0) / max) * (width - 130)));
    svg.append(el("rect", { x: 0, y: y + 14, width: w, height: 12, rx: 2, class: hot ? "bar bar-hot" : "bar" }));
    svg.append(el("text", { x: w + 6, y: y + 24, class: "chart-value" }, format(item.value)));
    if (item.value2 !== undefined) {
      const w2 = Math.max(1, Math.round(((Number(item.value2) || 0) / max) * (width - 130)));
      svg.append(el("rect", { x: 0, y: y + 28, width: w2, height: 8, rx: 2, class: "bar bar-2" }));
      svg.append(el("text", { x: w2 + 6, y: y + 36, class: "chart-value chart-value-2" }, format(item.value2)));
    }
  });
  if (series.length) {
    const y = height - 10;
    svg.append(el("rect", { x: 0, y: y - 9, width: 12, height: 10, class: "bar" }));
    svg.append(el("text", { x: 16, y, class: "chart-value" }, series[0]));
    if (series[1]) {
      svg.append(el("rect", { x: 200, y: y - 7, width: 12, height: 8, class: "bar bar-2" }));
      svg.append(el("text", { x: 216, y, class: "chart-value" }, series[1]));
    }
  }
  return svg;
}
