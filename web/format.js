// Formatting for Indonesian readers. Amounts are whole rupiah and may arrive as strings (the API
// sends decimals as strings); they are grouped digit by digit, never through a float.

export const MONTHS = [
  "Januari", "Februari", "Maret", "April", "Mei", "Juni",
  "Juli", "Agustus", "September", "Oktober", "November", "Desember",
];
const DAYS = ["Minggu", "Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu"];

function groupDigits(intPart) {
  return intPart.replace(/\B(?=(\d{3})+(?!\d))/g, ".");
}

/** "4640000" / 4640000 / "4640000.00" → "Rp 4.640.000"; negative → "−Rp 1.000". */
export function rupiah(value) {
  if (value === null || value === undefined || value === "") return "—";
  let s = String(value).trim();
  let negative = false;
  if (s.startsWith("-")) {
    negative = true;
    s = s.slice(1);
  }
  if (!/^\d+(\.\d+)?$/.test(s)) return String(value);
  const [intPart, frac] = s.split(".");
  let out = `Rp ${groupDigits(intPart.replace(/^0+(?=\d)/, ""))}`;
  if (frac && /[1-9]/.test(frac)) out += `,${frac.replace(/0+$/, "")}`;
  return negative ? `−${out}` : out;
}

/** Sum of whole-rupiah values (strings or numbers) with BigInt, exact. */
export function sumRupiah(values) {
  let total = 0n;
  for (const v of values) {
    if (v === null || v === undefined || v === "") continue;
    const s = String(v).trim().split(".")[0];
    if (/^-?\d+$/.test(s)) total += BigInt(s);
  }
  return total.toString();
}

/** 1234 → "1.234" */
export function number(value) {
  if (value === null || value === undefined || value === "") return "—";
  const s = String(value);
  if (/^-?\d+$/.test(s)) return (s.startsWith("-") ? "-" : "") + groupDigits(s.replace("-", ""));
  if (/^-?\d+\.\d+$/.test(s)) {
    const [i, f] = s.split(".");
    return `${number(i)},${f}`;
  }
  return s;
}

/**
 * A percentage for display. Accepts a percent ("90", "90.00", 97) or, when `fraction` is true,
 * a fraction ("0.9"). Shown with up to two decimals, Indonesian comma: "90 %", "97,5 %".
 */
export function percent(value, { fraction = false } = {}) {
  if (value === null || value === undefined || value === "") return "—";
  let n = Number(value);
  if (!Number.isFinite(n)) return String(value);
  if (fraction) n *= 100;
  const rounded = Math.round(n * 100) / 100;
  return `${String(rounded).replace(".", ",")} %`;
}

export function minutes(value) {
  if (value === null || value === undefined || value === "") return "—";
  return `${number(value)} menit`;
}

/** "19860926201505 1 001" style grouping of an 18-digit NIP: "19860926 201505 1 001". */
export function nip(value) {
  const s = String(value || "");
  if (/^\d{18}$/.test(s)) return `${s.slice(0, 8)} ${s.slice(8, 14)} ${s.slice(14, 15)} ${s.slice(15)}`;
  return s;
}

/** "2026-11-27" → "Jumat, 27 November 2026" (the date itself, no time-zone shift). */
export function longDate(iso) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(iso || ""));
  if (!m) return String(iso || "");
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const dow = new Date(Date.UTC(y, mo - 1, d)).getUTCDay();
  return `${DAYS[dow]}, ${d} ${MONTHS[mo - 1]} ${y}`;
}

/** "2026-11-27" → "27/11" */
export function shortDate(iso) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(iso || ""));
  return m ? `${m[3]}/${m[2]}` : String(iso || "");
}

/** "2026-11-27" → "27/11/2026" */
export function date(iso) {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(String(iso || ""));
  return m ? `${m[3]}/${m[2]}/${m[1]}` : String(iso || "");
}

/** "2026-11-27" → "Jumat" */
export function weekday(iso) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(iso || ""));
  if (!m) return "";
  return DAYS[new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))).getUTCDay()];
}

/** "2026-11-27" → "Jum 27/11" (a chart label or a compact list). */
export function dayLabel(iso) {
  return `${weekday(iso).slice(0, 3)} ${shortDate(iso)}`;
}

const WIB_PARTS = (() => {
  try {
    return new Intl.DateTimeFormat("en-GB", {
      timeZone: "Asia/Jakarta", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
      hourCycle: "h23",
    });
  } catch {
    return null;
  }
})();

/** An instant ("2026-11-27T02:05:00Z") in WIB, the Indonesian way: "27/11/2026 09:05". */
export function dateTime(value) {
  if (!value) return "—";
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return String(value);
  if (!WIB_PARTS) return d.toISOString().slice(0, 16).replace("T", " ");
  const p = Object.fromEntries(WIB_PARTS.formatToParts(d).map((x) => [x.type, x.value]));
  return `${p.day}/${p.month}/${p.year} ${p.hour}:${p.minute}`;
}

/** Whole days from one YYYY-MM-DD to another. */
export function daysBetween(fromIso, toIso) {
  const a = Date.parse(`${fromIso}T00:00:00Z`);
  const b = Date.parse(`${toIso}T00:00:00Z`);
  return Number.isFinite(a) && Number.isFinite(b) ? Math.round((b - a) / 86400000) : null;
}

/** YYYY-MM-DD plus n days. */
export function addDays(iso, n) {
  const t = Date.parse(`${iso}T00:00:00Z`);
  return new Date(t + n * 86400000).toISOString().slice(0, 10);
}

export function monthName(year, month) {
  return `${MONTHS[Number(month) - 1] || month} ${year}`;
}

/** Today's date in WIB (Asia/Jakarta) as YYYY-MM-DD: the date the services use. */
export function todayWib() {
  try {
    return new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Jakarta", year: "numeric", month: "2-digit", day: "2-digit" })
      .format(new Date());
  } catch {
    const d = new Date();
    return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
  }
}

/** "HH:MM" → minutes since midnight, or null. */
export function hhmmToMinutes(s) {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(String(s || ""));
  return m ? Number(m[1]) * 60 + Number(m[2]) : null;
}

const STATUS = {
  draft: ["draf", "st-draft"],
  submitted: ["diajukan", "st-submitted"],
  pending: ["menunggu validasi", "st-submitted"],
  approved: ["disetujui", "st-approved"],
  rejected: ["ditolak", "st-rejected"],
  returned: ["dikembalikan", "st-returned"],
  withdrawn: ["ditarik", "st-withdrawn"],
  overturned: ["disetujui setelah banding", "st-approved"],
};

/** [label in Indonesian, css class] of an entry status. */
export function statusLabel(status) {
  return STATUS[status] || [String(status || "—"), "st-draft"];
}

/**
 * What an entry's badge says, from its status and the fields of the entry contract (absent means
 * false / null): an edit or withdrawal the validation service has not confirmed yet, a change
 * the supervisor's decision overtook, an appeal and how it ended. `known` is the appeal as
 * approval reports it (views/shared.js), used when the entry itself does not carry one.
 */
export function entryState(e, known = null) {
  let [label, cls] = statusLabel(e.status);
  const notes = [];
  if (e.awaiting_confirmation) {
    label = e.status === "withdrawn" ? "penarikan menunggu konfirmasi" : "perubahan menunggu konfirmasi";
    cls = "st-submitted";
  }
  if (e.superseded && typeof e.superseded === "object") {
    notes.push(e.superseded.message || "Atasan sudah memutus sebelum perubahan Anda diterima; perubahan tidak berlaku.");
  }
  const own = e.appeal && typeof e.appeal === "object" ? e.appeal : null;
  const appeal = own && (own.outcome || !known) ? own : known || own;
  if (appeal) {
    if (appeal.outcome === "overturned" || e.status === "overturned") {
      label = "disetujui setelah banding";
      cls = "st-approved";
    } else if (appeal.outcome === "upheld") {
      label = "penolakan dikuatkan";
      cls = "st-rejected";
    } else if (e.status === "rejected") {
      label = appeal.level === "board" ? "ditolak · di majelis banding" : "ditolak · keberatan diperiksa";
    }
  }
  return { label, cls, notes, appealed: Boolean(appeal), appealId: appeal ? appeal.appeal_id : null };
}

export const APPEAL_LEVEL = { first_level: "tingkat pertama (atasan dari atasan)", board: "majelis banding" };
export const APPEAL_OUTCOME = { upheld: "penolakan dikuatkan", overturned: "dikabulkan: disetujui setelah banding" };
export const BOARD_REASON = {
  no_first_level: "tidak ada atasan di atas penolak",
  rejection_rate: "tingkat penolakan atasan melewati batas kebijakan",
  deadline: "tingkat pertama tidak memutus tepat waktu",
  employee: "diteruskan oleh pegawai",
};
export const TRAIL_STEP = {
  filed: "Keberatan diajukan",
  commented: "Tanggapan atasan penolak",
  evidence_added: "Bukti ditambahkan",
  escalated: "Diteruskan ke majelis banding",
  decided: "Diputus",
};

export const ROLE_NAMES = {
  pegawai: "Pegawai",
  admin_bkd: "Admin BKD",
  organisasi: "Bagian Organisasi",
  bpkad: "BPKAD",
  majelis: "Majelis Banding",
};
