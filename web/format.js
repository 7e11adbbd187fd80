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
  approved: ["disetujui", "st-approved"],
  rejected: ["ditolak", "st-rejected"],
  returned: ["dikembalikan", "st-returned"],
  withdrawn: ["ditarik", "st-withdrawn"],
  appealed: ["banding", "st-submitted"],
  upheld: ["ditolak (banding)", "st-rejected"],
  overturned: ["disetujui (banding)", "st-approved"],
};

/** [label in Indonesian, css class] of an entry status. */
export function statusLabel(status) {
  return STATUS[status] || [String(status || "—"), "st-draft"];
}

export const ROLE_NAMES = {
  pegawai: "Pegawai",
  admin_bkd: "Admin BKD",
  organisasi: "Bagian Organisasi",
  bpkad: "BPKAD",
  majelis: "Majelis Banding",
};
