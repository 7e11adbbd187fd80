// Bulan Saya (home): how am I doing this month? Minutes approved / waiting / returned /
// rejected against the month's target, a bar per working day (days without an entry stand
// out), attendance and discipline, the TPP estimate with every cut in rupiah (payroll computes
// it with the real policy), and what can still be done about it.
import * as api from "../api.js";
import { myAppealsByEntry } from "./shared.js";
import { h, replace, field, alertBox, showError, svg, monthSelect } from "../dom.js";
import {
  minutes, number, percent, rupiah, monthName, todayWib, dayLabel, longDate, date, addDays,
} from "../format.js";

const CODE_NAMES = { TL: "terlambat masuk", PSW: "pulang sebelum waktunya", TK: "tidak masuk tanpa keterangan" };

function codeName(code) {
  const m = /^(TL|PSW|TK)(\d?)$/.exec(code);
  return m ? `${CODE_NAMES[m[1]]}${m[2] ? ` (${code})` : ""}` : code;
}

export async function render(container, { account }) {
  const today = todayWib();
  const monthInput = monthSelect(today.slice(0, 7), { id: "month-pick" });
  const alert = alertBox();
  const body = h("div", { class: "month-body", "aria-live": "polite" });
  replace(container,
    h("div", { class: "view-head" },
      h("div", null, h("h1", { tabindex: "-1" }, "Bulan Saya"), h("p", { class: "muted" }, account.name)),
      field("Bulan", monthInput, { name: "month", className: "inline" })),
    alert, body);

  let seq = 0;
  let filledDates = new Set();
  async function load() {
    const mine = ++seq;
    const month = monthInput.value || today.slice(0, 7);
    const [y, m] = month.split("-").map(Number);
    body.setAttribute("aria-busy", "true");
    alert.hidden = true;
    try {
      const waiting = (err, seconds) => {
        if (mine !== seq) return;
        replace(body, h("p", { class: "notice", role: "status" }, err.status === 0
          ? "Tidak ada koneksi. Halaman ini dimuat otomatis saat koneksi kembali."
          : `${err.message} Dicoba lagi otomatis dalam ${Math.ceil(seconds)} detik.`));
      };
      const [summary, entries, attendance, appeals, entryPolicy] = await Promise.all([
        api.retrying(() => api.get(`/api/activity/me/month?month=${month}`), { onWait: waiting }),
        api.retrying(() => api.get(`/api/activity/entries?month=${month}`), { onWait: waiting }),
        api.get(`/api/activity/attendance?month=${month}`).catch(() => ({ days: [] })),
        myAppealsByEntry(account),
        api.get(`/api/activity/entry-policies/${y}`).catch(() => null),
      ]);
      if (entryPolicy && Number.isInteger(entryPolicy.submission_window_days)) {
        summary.submission_window_days = entryPolicy.submission_window_days;
      }
      const pending = summary.minutes.pending || 0;
      // Payroll's estimate; a locked month has its real line on the TPP page instead.
      const estimate = await api.get(`/api/payroll/estimates/${y}/${m}/me?pending_minutes=${pending}`)
        .catch((err) => ({ error: err }));
      if (mine !== seq) return;
      draw(month, summary, (entries && entries.entries) || [], (attendance && attendance.days) || [], estimate, appeals);
    } catch (err) {
      if (mine !== seq) return;
      replace(body);
      showError(container, alert, err);
    } finally {
      if (mine === seq) body.removeAttribute("aria-busy");
    }
  }

  function draw(month, s, entries, days, est, appeals) {
    const [y, m] = month.split("-");
    const mins = s.minutes;
    const byStatus = (st) => entries.filter((e) => st.includes(e.status));
    const pendingEntries = byStatus(["submitted"]);
    const returned = byStatus(["returned"]);
    const appealable = byStatus(["rejected"]).filter((e) => !e.appeal && !appeals.has(e.id));
    const hasEstimate = est && !est.error;
    // Days with an entry the supervisor sees (or will): what "no entry" means on the chart and list.
    filledDates = new Set(entries.filter((e) => e.status !== "withdrawn" && e.status !== "draft").map((e) => e.date));

    // ---- figures ----
    const stats = h("div", { class: "summary" },
      stat("Disetujui", `${minutes(mins.approved)}`, "st-approved", "my-approved", `dari target ${minutes(s.target_minutes)}`),
      stat("Produktivitas", percent(s.productivity_pct), "st-approved", "my-productivity", `${number(s.working_days)} hari kerja`),
      stat("Menunggu validasi", minutes(mins.pending), "st-submitted", "my-pending", `${pendingEntries.length} kegiatan`),
      stat("Dikembalikan", `${returned.length} kegiatan`, "st-returned", "my-returned", minutes(mins.returned)),
      stat("Ditolak", `${byStatus(["rejected"]).length} kegiatan`, "st-rejected", "my-rejected", minutes(mins.rejected)),
      stat("Disiplin", percent(s.discipline_pct), "", "my-discipline", `potongan ${percent(s.attendance.deduction_pct)}`),
      hasEstimate ? stat("Perkiraan TPP diterima", rupiah(est.net), "st-approved", "my-tpp", "data sampai saat ini") : null);

    replace(body,
      s.period_locked ? h("p", { class: "notice" }, `${monthName(y, m)} sudah dikunci BPKAD. Angka yang dibayarkan ada di halaman TPP.`) : null,
      stats,
      h("section", { class: "card", "aria-labelledby": "todo-title" },
        h("h2", { id: "todo-title" }, "Yang masih dapat dilakukan"), todo(month, s, pendingEntries, returned, appealable, days, est)),
      h("section", { class: "card", "aria-labelledby": "chart-title" },
        h("h2", { id: "chart-title" }, "Menit diakui per hari kerja"), dayChart(s, entries)),
      h("section", { class: "card", "aria-labelledby": "tpp-title", id: "tpp-estimate" },
        h("h2", { id: "tpp-title" }, `Perkiraan TPP ${monthName(y, m)}`), estimateBlock(est, s)),
      h("section", { class: "card", "aria-labelledby": "att-title" },
        h("h2", { id: "att-title" }, "Presensi dan disiplin"), attendanceBlock(s, days, est)));
  }

  function todo(month, s, pendingEntries, returned, appealable, days, est) {
    const items = [];
    const est_ = est && !est.error ? est : null;
    if (pendingEntries.length) {
      const gain = est_ && est_.with_pending ? est_.with_pending.net - est_.net : null;
      items.push(h("li", { id: "todo-pending" },
        `${pendingEntries.length} kegiatan (${minutes(s.minutes.pending)}) menunggu validasi atasan`,
        gain ? `; bila disetujui, perkiraan TPP naik ${rupiah(gain)} menjadi ${rupiah(est_.with_pending.net)}.` : "."));
    }
    if (returned.length) {
      items.push(h("li", { id: "todo-returned" }, `${returned.length} kegiatan dikembalikan atasan: `,
        h("a", { href: "#/kegiatan" }, "perbaiki dan ajukan ulang"), "."));
    }
    if (appealable.length) {
      items.push(h("li", { id: "todo-rejected" }, `${appealable.length} kegiatan ditolak: Anda dapat `,
        h("a", { href: `#/keberatan/baru/${appealable.map((e) => encodeURIComponent(e.id)).join(",")}` }, "mengajukan keberatan"),
        " dalam batas waktu keberatan setelah penolakan."));
    }
    const window = s.submission_window_days ?? 5;
    const empty = (s.working_dates || []).filter((d) => d <= today && !filledDates.has(d));
    const stillOpen = empty.filter((d) => addDays(d, window) >= today);
    if (stillOpen.length) {
      items.push(h("li", { id: "todo-empty" }, "Belum ada kegiatan pada ",
        stillOpen.map((d, i) => [i ? ", " : "", h("strong", null, dayLabel(d)), ` (dapat diisi sampai ${date(addDays(d, window))})`]),
        ". ", h("a", { href: "#/kegiatan" }, "Isi sekarang"), "."));
    }
    if (est_ && est_.minutes_short > 0 && !s.period_locked) {
      items.push(h("li", { id: "todo-short" }, `Masih kurang ${minutes(est_.minutes_short)} dari target bulan ini`,
        est_.net_per_next_hour ? `; setiap 1 jam kegiatan yang disetujui menambah sekitar ${rupiah(est_.net_per_next_hour)}.` : "."));
    }
    for (const day of days.filter((d) => (d.codes || []).some((c) => /^(TL|PSW|TK)/.test(c)))) {
      const cost = (day.codes || []).map((c) => est_ && est_.attendance.find((a) => a.code === c)).filter(Boolean)
        .reduce((t, a) => t + a.cost_per_day, 0);
      items.push(h("li", { class: "todo-attendance" },
        `${(day.codes || []).join(", ")} pada ${dayLabel(day.date)}`, cost ? ` memotong sekitar ${rupiah(cost)}` : "",
        ". Bila presensi ini keliru (lupa absen, mesin rusak, dinas luar), minta koreksi presensi ke admin BKD sebelum bulan dikunci."));
    }
    if (!items.length) return h("p", { class: "empty", id: "todo-none" }, "Tidak ada yang perlu ditindaklanjuti. Terus isi kegiatan harian Anda.");
    return h("ul", { class: "todo" }, items);
  }

  function dayChart(s, entries) {
    const days = s.working_dates || [];
    const perDay = new Map(days.map((d) => [d, { approved: 0, pending: 0, other: 0, any: false }]));
    for (const e of entries) {
      if (e.status === "withdrawn" || e.status === "draft") continue;
      const slot = perDay.get(e.date) || perDay.set(e.date, { approved: 0, pending: 0, other: 0, any: false }).get(e.date);
      slot.any = true;
      const n = Number(e.credited_minutes) || 0;
      if (e.status === "approved" || e.status === "overturned") slot.approved += n;
      else if (e.status === "submitted") slot.pending += n;
      else slot.other += n;
    }
    if (!days.length) return h("p", { class: "empty" }, "Bulan ini tidak memiliki hari kerja.");
    const target = s.target_minutes_per_day || 300;
    const max = Math.max(target * 1.5, ...[...perDay.values()].map((v) => v.approved + v.pending + v.other));
    // On a phone the bars are drawn narrower, so the chart keeps readable labels at 390 px.
    const narrow = window.matchMedia("(max-width: 600px)").matches;
    const bw = narrow ? 9 : 22;
    const gap = narrow ? 3 : 6;
    const hgt = narrow ? 110 : 150;
    const width = days.length * (bw + gap) + 30;
    const y = (v) => hgt - (v / max) * hgt;
    const bars = days.map((d, i) => {
      const v = perDay.get(d);
      const x = 30 + i * (bw + gap);
      const future = d > today;
      const parts = [];
      let base = 0;
      for (const [key, cls] of [["approved", "bar-approved"], ["pending", "bar-pending"], ["other", "bar-other"]]) {
        if (!v[key]) continue;
        parts.push(svg("rect", { x, y: y(base + v[key]), width: bw, height: (v[key] / max) * hgt, class: cls }));
        base += v[key];
      }
      const emptyDay = !v.any && !future;
      return svg("g", { class: emptyDay ? "day-empty" : future ? "day-future" : "day-filled", "data-date": d },
        svg("title", null, `${longDate(d)}: disetujui ${v.approved} menit, menunggu ${v.pending} menit${emptyDay ? " — belum ada kegiatan" : ""}`),
        emptyDay ? svg("rect", { x, y: hgt - 16, width: bw, height: 16, class: "bar-empty" }) : null,
        parts,
        !narrow || i % 2 === 0 || i === days.length - 1
          ? svg("text", { x: x + bw / 2, y: hgt + 14, class: "bar-label", "text-anchor": "middle" }, String(Number(d.slice(8))))
          : null);
    });
    const chart = svg("svg", { viewBox: `0 0 ${width} ${hgt + 20}`, class: "day-chart", role: "img", id: "day-chart",
      "aria-label": `Menit diakui per hari kerja; target ${target} menit per hari` },
    svg("line", { x1: 26, x2: width, y1: y(target), y2: y(target), class: "target-line" }),
    svg("text", { x: 0, y: y(target) + 4, class: "bar-label" }, String(target)),
    bars);
    const emptyCount = days.filter((d) => d <= today && !filledDates.has(d)).length;
    return h("div", null,
      h("div", { class: "chart-wrap" }, chart),
      h("p", { class: "legend small" },
        h("span", { class: "key key-approved" }), "disetujui ", h("span", { class: "key key-pending" }), "menunggu ",
        h("span", { class: "key key-other" }), "dikembalikan/ditolak ", h("span", { class: "key key-empty" }), "belum diisi ",
        h("span", { class: "key key-target" }), `target ${target} menit/hari`),
      emptyCount ? h("p", { class: "warn-text small", id: "empty-days" }, `${emptyCount} hari kerja sampai hari ini belum ada kegiatannya.`) : null);
  }

  function estimateBlock(est, s) {
    if (!est || est.error) {
      const err = est && est.error;
      if (err && err.status === 409) return h("p", null, "Bulan ini sudah dikunci; lihat ", h("a", { href: "#/tpp" }, "TPP Saya"), " untuk angka yang dibayarkan.");
      return h("p", { class: "muted", id: "estimate-missing" }, err ? err.message : "Perkiraan belum tersedia.");
    }
    const i = est.inputs || {};
    const c = est.cuts;
    const codes = (est.attendance || []).map((a) => `${a.code} × ${a.days}`).join(", ");
    const rows = [
      ["TPP penuh", rupiah(c.full), `kelas jabatan ${est.kelas_jabatan} (${est.position_name}), produktivitas dan disiplin 100 %`],
      ["Produktivitas", c.productivity ? `−${rupiah(c.productivity)}` : rupiah(0),
        `${percent(i.productivity_pct)}: ${minutes(i.approved_minutes)} disetujui dari target ${minutes(i.target_minutes)}`],
      ["Disiplin", c.discipline ? `−${rupiah(c.discipline)}` : rupiah(0),
        `${percent(i.discipline_pct)}: potongan ${percent(i.deductions_pct)}${codes ? ` (${codes})` : ""}`],
      c.sanction ? ["Sanksi disiplin", `−${rupiah(c.sanction)}`, `potongan ${percent(i.sanction_cut_pct)} (PP 94/2021)`] : null,
      ["Bruto", rupiah(est.gross), i.status === "CPNS" ? "CPNS menerima 80 %" : ""],
      ["PPh 21", `−${rupiah(c.pph)}`, `tarif ${percent(i.pph_rate_pct)} golongan ${i.golongan || ""}`],
      ["BPJS Kesehatan", `−${rupiah(c.bpjs)}`, `${percent(i.bpjs_rate_pct)} dari gaji${est.salary_month ? ` (gaji ${monthName(...est.salary_month.split("-"))})` : " (gaji belum tercatat)"} + TPP`],
      ["Perkiraan diterima", rupiah(est.net), ""],
    ].filter(Boolean);
    return h("div", null,
      h("p", { class: "estimate-net" }, "Perkiraan diterima: ", h("strong", { id: "estimate-net" }, rupiah(est.net))),
      h("div", { class: "table-wrap" }, h("table", { class: "table explain", id: "estimate-cuts" },
        h("caption", { class: "sr-only" }, "Rincian perkiraan TPP"),
        h("tbody", null, rows.map(([a, b, note]) => h("tr", null,
          h("th", { scope: "row" }, a), h("td", { class: "num nowrap" }, b), h("td", { class: "muted small" }, note)))))),
      est.with_pending && est.with_pending.net !== est.net
        ? h("p", { id: "estimate-with-pending" }, `Bila ${minutes(s.minutes.pending)} yang menunggu disetujui: `, h("strong", null, rupiah(est.with_pending.net)), ".")
        : null,
      h("p", { class: "muted small" },
        "Perkiraan dengan data sampai saat ini, dihitung BPKAD dengan kebijakan TPP tahun ini; angka resmi ditetapkan saat bulan dikunci."));
  }

  function attendanceBlock(s, days, est) {
    const a = s.attendance;
    const marked = days.filter((d) => (d.codes || []).length);
    return h("div", null,
      h("p", null, `Hari tercatat ${number(a.recorded_days)} · terlambat ${number(a.late_days)} · pulang awal ${number(a.early_days)}`
        + ` · tanpa keterangan ${number(a.absent_days)} · izin/cuti/dinas ${number(a.excused_days)} · disiplin ${percent(s.discipline_pct)}`),
      marked.length
        ? h("ul", { class: "attendance-list" }, marked.map((d) => {
          const cost = (d.codes || []).map((c) => est && !est.error && (est.attendance || []).find((x) => x.code === c))
            .filter(Boolean).reduce((t, x) => t + x.cost_per_day, 0);
          return h("li", null, h("strong", null, longDate(d.date)), ": ",
            (d.codes || []).map(codeName).join(", "),
            d.check_in || d.check_out ? ` (masuk ${d.check_in || "—"}, pulang ${d.check_out || "—"})` : "",
            Number(d.deduction_pct) ? ` — potongan ${percent(d.deduction_pct)}${cost ? `, sekitar ${rupiah(cost)}` : ""}` : "");
        }))
        : h("p", { class: "muted" }, "Tidak ada catatan keterlambatan atau ketidakhadiran."));
  }

  monthInput.addEventListener("change", load);
  await load();
}

function stat(label, value, cls, id, sub) {
  return h("div", { class: `stat ${cls}`, id },
    h("span", { class: "stat-label" }, label),
    h("strong", { class: "stat-value" }, value),
    sub ? h("span", { class: "stat-sub small muted" }, sub) : null);
}
