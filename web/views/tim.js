// Tim Saya: the month of everyone the caller supervises — days filled, minutes approved against
// the target, what waits and since when, rejections, who entered nothing this week — and a small
// chart of the team's productivity. Figures are activity's (GET /team/month), the same the
// employees see on their own "Bulan Saya".
import * as api from "../api.js";
import { h, replace, field, alertBox, showError, svg, monthSelect } from "../dom.js";
import { minutes, number, percent, monthName, todayWib, nip, date } from "../format.js";

export async function render(container) {
  const today = todayWib();
  const monthInput = monthSelect(today.slice(0, 7));
  const alert = alertBox();
  const body = h("div", { "aria-live": "polite" });
  replace(container,
    h("div", { class: "view-head" }, h("h1", { tabindex: "-1" }, "Tim Saya"), field("Bulan", monthInput, { name: "month", className: "inline" })),
    alert, body);

  let seq = 0;
  async function load() {
    const mine = ++seq;
    body.setAttribute("aria-busy", "true");
    try {
      const t = await api.retrying(() => api.get(`/api/activity/team/month?month=${monthInput.value}`));
      if (mine === seq) draw(t);
    } catch (err) {
      if (mine !== seq) return;
      replace(body);
      showError(container, alert, err);
    } finally {
      if (mine === seq) body.removeAttribute("aria-busy");
    }
  }

  function draw(t) {
    const [y, m] = t.month.split("-");
    if (!t.members.length) {
      replace(body, h("p", { class: "empty" }, `Tidak ada pegawai yang Anda bawahi pada ${monthName(y, m)}.`));
      return;
    }
    const idle = t.members.filter((p) => p.entries_this_week === 0);
    replace(body,
      h("div", { class: "summary" },
        stat("Anggota tim", number(t.totals.members)),
        stat("Produktivitas tim", percent(t.totals.productivity_pct), "st-approved", "team-productivity"),
        stat("Menunggu validasi", `${number(t.totals.pending_entries)} kegiatan`, "st-submitted"),
        stat("Belum mengisi minggu ini", `${number(t.totals.nothing_this_week)} orang`, t.totals.nothing_this_week ? "st-rejected" : "", "team-idle")),
      idle.length ? h("p", { class: "notice", id: "idle-note" },
        `Belum mengisi kegiatan minggu ini (${date(t.this_week.from)}–${date(t.this_week.to)}): `,
        idle.map((p) => p.name).join(", "), ".") : null,
      h("section", { class: "card" }, h("h2", null, `Produktivitas ${monthName(y, m)}`), chart(t)),
      h("section", { class: "card" }, h("h2", null, "Per pegawai"),
        h("p", { class: "muted small" }, `Target ${minutes(t.target_minutes)} (${number(t.working_days)} hari kerja; ${number(t.working_days_so_far)} sudah berjalan).`),
        h("ul", { class: "team-list", id: "team-list" }, t.members.map((p) => h("li", { class: "team-card", dataset: { employeeId: p.employee_id } },
          h("div", { class: "tc-who" }, h("strong", null, p.name || "(tanpa nama)"), h("span", { class: "muted small nip" }, nip(p.nip)),
            p.entries_this_week === 0 ? h("span", { class: "badge st-rejected" }, "belum mengisi minggu ini") : null),
          h("dl", { class: "tc-facts" },
            h("dt", null, "Hari terisi"), h("dd", null, `${number(p.days_filled)} / ${number(t.working_days_so_far)}`),
            h("dt", null, "Disetujui"), h("dd", null, `${minutes(p.minutes.approved)} (${percent(p.productivity_pct)})`),
            h("dt", null, "Menunggu"), h("dd", { class: p.pending_entries ? "warn-text" : "" },
              p.pending_entries ? `${number(p.pending_entries)} kegiatan, tertua ${date(p.oldest_pending_date)} (${number(p.oldest_pending_days)} hari)` : "—"),
            h("dt", null, "Dikembalikan / ditolak"), h("dd", null, `${number(p.returned_entries)} / ${number(p.rejected_entries)}`)),
          p.pending_entries ? h("a", { class: "btn btn-small btn-ghost", href: "#/validasi" }, "Validasi") : null)))));
  }

  function chart(t) {
    const rowH = 26;
    const labelW = 150;
    const barW = 220;
    const height = t.members.length * rowH + 10;
    return h("div", { class: "chart-wrap" }, svg("svg", {
      viewBox: `0 0 ${labelW + barW + 60} ${height}`, class: "team-chart", role: "img", id: "team-chart",
      "aria-label": `Produktivitas tiap pegawai bulan ini; tim ${percent(t.totals.productivity_pct)}`,
    }, t.members.map((p, i) => {
      const pct = Math.min(100, Number(p.productivity_pct) || 0);
      const yy = 5 + i * rowH;
      const short = (p.name || "").length > 22 ? `${p.name.slice(0, 21)}…` : p.name || "";
      return svg("g", null,
        svg("text", { x: 0, y: yy + 15, class: "bar-label" }, short),
        svg("rect", { x: labelW, y: yy + 3, width: barW, height: 16, class: "bar-track" }),
        svg("rect", { x: labelW, y: yy + 3, width: (barW * pct) / 100, height: 16, class: pct >= 100 ? "bar-approved" : "bar-pending" }),
        svg("text", { x: labelW + barW + 6, y: yy + 15, class: "bar-label" }, percent(p.productivity_pct)));
    })));
  }

  monthInput.addEventListener("change", load);
  await load();
}

function stat(label, value, cls = "", id = undefined) {
  return h("div", { class: `stat ${cls}`, id }, h("span", { class: "stat-label" }, label), h("strong", { class: "stat-value" }, value));
}
