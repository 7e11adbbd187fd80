// Beranda (BKD): what needs BKD's attention today — next year's work calendar still missing,
// the month's people without entries, entries still awaiting validation, late-entry permissions.
import * as api from "../api.js";
import { h, replace, alertBox, showError } from "../dom.js";
import { number, monthName, todayWib } from "../format.js";
import { ensureStyles, stat } from "./bo.js";

export async function renderBeranda(container) {
  ensureStyles();
  const today = todayWib();
  const year = Number(today.slice(0, 4));
  const month = today.slice(0, 7);
  const alerts = h("div", { id: "dashboard-warnings" });
  const stats = h("div", { class: "summary" });
  const alert = alertBox();
  replace(container, h("h1", { tabindex: "-1" }, "Beranda BKD"), alert, alerts, h("section", { class: "card" },
    h("h2", null, `Bulan ini: ${monthName(year, Number(today.slice(5, 7)))}`), stats));

  const [nextCal, thisCal, employees, idle, pending, permits] = await Promise.allSettled([
    api.get(`/api/activity/calendar/${year + 1}`),
    api.get(`/api/activity/calendar/${year}`),
    api.get("/api/identity/employees?limit=1&active=true"),
    api.get(`/api/activity/reports/no-entries?month=${month}&limit=1`),
    api.get(`/api/approval/reports/pending?month=${month}`),
    api.get("/api/activity/late-entry-permissions?limit=1"),
  ]);
  const warnings = [];
  const calWarn = (r, y) => {
    if (r.status === "fulfilled" && r.value.is_default) {
      warnings.push(h("div", { class: "notice", role: "alert", id: `calendar-missing-${y}` },
        h("strong", null, `Kalender kerja ${y} belum ditetapkan.`),
        ` Sampai ditetapkan, hari kerja dihitung Senin–Jumat dikurangi libur nasional bertanggal tetap saja (libur lain dan cuti bersama belum), dan target menit pegawai bisa salah. `,
        h("a", { href: "#/kalender" }, `Tetapkan kalender ${y}`)));
    }
  };
  calWarn(thisCal, year);
  calWarn(nextCal, year + 1);
  replace(alerts, warnings.length ? warnings : h("p", { class: "ok-line", id: "dashboard-ok" },
    "Kalender kerja tahun ini dan tahun depan sudah ditetapkan."));
  const val = (r, f) => (r.status === "fulfilled" ? f(r.value) : "—");
  replace(stats,
    stat("Pegawai aktif", val(employees, (b) => number(b.total)), "st-submitted"),
    stat("Belum mengisi kegiatan bulan ini", val(idle, (b) => `${number(b.total)} dari ${number(b.placed)}`), "st-returned"),
    stat("Kegiatan menunggu validasi", val(pending, (b) => number(b.pending_entries)), "st-returned"),
    stat("Izin pengisian susulan aktif", val(permits, (b) => number(b.total)), ""));
  const failed = [nextCal, employees].find((r) => r.status === "rejected");
  if (failed) showError(container, alert, failed.reason);
}
