// TPP: BPKAD computes a month and sees every line; every employee sees their own line with the
// inputs that explain it ("TPP Saya").
import * as api from "../api.js";
import { h, replace, field, alertBox, showError, clearErrors, busy, toast, newId, saveBlob } from "../dom.js";
import { MONTHS, rupiah, sumRupiah, percent, number, nip, todayWib, monthName } from "../format.js";

const RUN_STATUS = { open: "terbuka (dapat dihitung ulang)", locked: "dikunci", draft: "draf", computed: "dihitung" };

/** An input of a line: from line.inputs (where the service keeps them), else from the line. The
 *  inputs come first because the line's own fields may mean something else (on /me, `status` is
 *  the run's status, the input `status` the employee's). */
function pick(line, ...names) {
  for (const n of names) {
    if (line && line.inputs && line.inputs[n] !== undefined && line.inputs[n] !== null) return line.inputs[n];
    if (line && line[n] !== undefined && line[n] !== null) return line[n];
  }
  return null;
}

function productivityPct(line) {
  const p = pick(line, "productivity_pct");
  return p !== null ? percent(p) : percent(pick(line, "productivity"), { fraction: true });
}

function disciplinePct(line) {
  const p = pick(line, "discipline_pct");
  return p !== null ? percent(p) : percent(pick(line, "discipline"), { fraction: true });
}

export async function render(container, { account }) {
  const isBpkad = account.roles.includes("bpkad");
  const isEmployee = Boolean(account.employee_id) && account.roles.includes("pegawai");
  const today = todayWib();

  const yearInput = h("input", { type: "number", min: "2000", max: "2100", step: "1", value: today.slice(0, 4), inputmode: "numeric" });
  const monthSelect = h("select", null, MONTHS.map((m, i) => h("option", { value: String(i + 1) }, m)));
  monthSelect.value = String(Number(today.slice(5, 7)));
  const periodForm = h("form", { class: "period", novalidate: true, "aria-label": "Periode TPP" },
    field("Tahun", yearInput, { name: "year", className: "inline" }),
    field("Bulan", monthSelect, { name: "month", className: "inline" }));
  const periodAlert = alertBox();

  const sections = [];
  let runSection = null;
  let meSection = null;
  if (isBpkad) {
    runSection = runPanel();
    sections.push(runSection.el);
  }
  if (isEmployee) {
    meSection = mePanel();
    sections.push(meSection.el);
  }

  replace(container,
    h("div", { class: "view-head" }, h("h1", { tabindex: "-1" }, "TPP"), periodForm),
    periodAlert,
    sections);

  function period() {
    const y = Number(yearInput.value);
    const m = Number(monthSelect.value);
    if (!Number.isInteger(y) || y < 2000 || y > 2100) {
      showError(periodForm, periodAlert, { message: "Periode tidak valid.", fields: { year: "Tahun harus 2000–2100" } });
      return null;
    }
    clearErrors(periodForm, periodAlert);
    return { y, m };
  }

  function onPeriod() {
    const p = period();
    if (!p) return;
    if (meSection) meSection.load(p);
    if (runSection) runSection.show(p, { quiet: true });
  }
  periodForm.addEventListener("submit", (ev) => { ev.preventDefault(); onPeriod(); });
  yearInput.addEventListener("change", onPeriod);
  monthSelect.addEventListener("change", onPeriod);

  // ---- BPKAD: compute and list ----------------------------------------------------------
  function runPanel() {
    const titleId = newId("run");
    const compute = h("button", { type: "button", class: "btn btn-primary", id: "tpp-compute" }, "Hitung");
    const show = h("button", { type: "button", class: "btn btn-ghost" }, "Tampilkan");
    const alert = alertBox();
    const meta = h("p", { class: "muted", role: "status" });
    const out = h("div", { class: "run" });
    const el = h("section", { class: "card", "aria-labelledby": titleId },
      h("div", { class: "card-head" },
        h("h2", { id: titleId }, "Perhitungan TPP (BPKAD)"),
        h("div", { class: "actions" }, show, compute)),
      alert, meta, out);

    compute.addEventListener("click", async () => {
      const p = period();
      if (!p) return;
      clearErrors(el, alert);
      try {
        const run = await busy(compute, "Menghitung…", () => api.post(`/api/payroll/runs/${p.y}/${p.m}/compute`, {}));
        draw(run, p);
        toast(`TPP ${monthName(p.y, p.m)} dihitung: ${(run.lines || []).length} pegawai.`);
        if (meSection) meSection.load(p);
      } catch (err) {
        showError(el, alert, err);
      }
    });
    show.addEventListener("click", () => {
      const p = period();
      if (p) busy(show, "Memuat…", () => load(p, false));
    });

    async function load(p, quiet) {
      clearErrors(el, alert);
      try {
        draw(await api.get(`/api/payroll/runs/${p.y}/${p.m}`), p);
      } catch (err) {
        replace(out);
        if (err.status === 404) {
          meta.textContent = `TPP ${monthName(p.y, p.m)} belum dihitung. Tekan “Hitung”.`;
        } else if (!quiet) {
          showError(el, alert, err);
        } else {
          meta.textContent = err.message;
        }
      }
    }

    function draw(run, p) {
      const lines = Array.isArray(run && run.lines) ? [...run.lines] : [];
      lines.sort((a, b) => String(a.name || "").localeCompare(String(b.name || ""), "id"));
      const status = RUN_STATUS[run.status] || run.status || "";
      meta.textContent = `${monthName(run.year || p.y, run.month || p.m)} · status ${status} · ${number(lines.length)} pegawai`
        + (run.computed_at ? ` · dihitung ${String(run.computed_at).replace("T", " ").slice(0, 16)}` : "");
      if (!lines.length) {
        replace(out, h("p", { class: "empty" }, "Belum ada baris TPP untuk periode ini."), skippedList(run));
        return;
      }
      const totals = run.totals || {};
      const total = (k) => (totals[k] !== undefined && totals[k] !== null ? totals[k] : sumRupiah(lines.map((l) => l[k])));
      const rows = [];
      for (const l of lines) {
        const detailId = newId("line");
        const toggle = h("button", { type: "button", class: "btn btn-small btn-ghost", "aria-expanded": "false", "aria-controls": detailId,
          "aria-label": `Rincian ${l.name}` }, "Rincian");
        const detail = h("tr", { id: detailId, class: "line-detail", hidden: true },
          h("td", { colspan: "10" }, explanation(l)));
        toggle.addEventListener("click", () => {
          detail.hidden = !detail.hidden;
          toggle.setAttribute("aria-expanded", String(!detail.hidden));
        });
        rows.push(h("tr", { dataset: { employeeId: String(l.employee_id || "") } },
          h("td", { class: "name" }, l.name || ""),
          h("td", { class: "nowrap" }, nip(l.nip)),
          h("td", { class: "num" }, String(pick(l, "kelas_jabatan") ?? "—")),
          h("td", { class: "num" }, productivityPct(l)),
          h("td", { class: "num" }, disciplinePct(l)),
          h("td", { class: "num nowrap" }, rupiah(l.gross)),
          h("td", { class: "num nowrap" }, rupiah(l.pph)),
          h("td", { class: "num nowrap" }, rupiah(l.bpjs)),
          h("td", { class: "num nowrap strong" }, rupiah(l.net)),
          h("td", null, toggle)), detail);
      }
      replace(out,
        h("div", { class: "table-wrap" },
          h("table", { class: "table table-money", id: "tpp-lines" },
            h("caption", { class: "sr-only" }, `Baris TPP ${monthName(p.y, p.m)}`),
            h("thead", null, h("tr", null,
              ["Nama", "NIP", "Kelas", "Produktivitas", "Disiplin", "Bruto", "PPh 21", "BPJS", "Bersih"].map((t, i) =>
                h("th", { scope: "col", class: i >= 2 ? "num" : null }, t)),
              h("th", { scope: "col" }, h("span", { class: "sr-only" }, "Rincian")))),
            h("tbody", null, rows),
            h("tfoot", null, h("tr", null,
              h("th", { scope: "row", colspan: "5" }, `Jumlah (${number(lines.length)} pegawai)`),
              h("td", { class: "num nowrap" }, rupiah(total("gross"))),
              h("td", { class: "num nowrap" }, rupiah(total("pph"))),
              h("td", { class: "num nowrap" }, rupiah(total("bpjs"))),
              h("td", { class: "num nowrap strong" }, rupiah(total("net"))),
              h("td", null))))),
        skippedList(run),
        warningList(run),
        Array.isArray(run.corrections) && run.corrections.length
          ? [h("h3", null, "Koreksi (rapel) dari bulan yang sudah dikunci"), correctionsTable(run.corrections, true)]
          : null,
        run.payable && run.payable.net !== undefined
          ? h("p", { class: "payable" }, `Jumlah dibayar (${number(run.payable.employees)} pegawai): `,
            h("strong", null, rupiah(run.payable.net)))
          : null);
    }

    return { el, show: (p, { quiet } = {}) => load(p, quiet) };
  }

  // ---- everyone: my own line ------------------------------------------------------------
  function mePanel() {
    const titleId = newId("me");
    const alert = alertBox();
    const out = h("div", { class: "me" });
    const el = h("section", { class: "card", "aria-labelledby": titleId, id: "tpp-saya" },
      h("h2", { id: titleId }, "TPP Saya"), alert, out);
    let seq = 0;

    async function load(p) {
      const mine = ++seq;
      clearErrors(el, alert);
      out.setAttribute("aria-busy", "true");
      try {
        const data = await api.get(`/api/payroll/runs/${p.y}/${p.m}/me`);
        if (mine !== seq) return;
        const line = data && data.line ? { ...data.line, run_status: data.status } : data;
        replace(out, myLine(line, p));
      } catch (err) {
        if (mine !== seq) return;
        if (err.status === 404) {
          replace(out, h("p", { class: "empty" }, `${err.message} (${monthName(p.y, p.m)}). `,
            h("a", { href: "#/bulan" }, "Lihat perkiraan TPP bulan berjalan di Bulan Saya"), "."));
        } else {
          replace(out);
          showError(el, alert, err);
        }
      } finally {
        if (mine === seq) out.removeAttribute("aria-busy");
      }
    }
    return { el, load };
  }

  function slipButton(p) {
    const b = h("button", { type: "button", class: "btn btn-ghost", id: "slip-download" }, "Unduh slip TPP (PDF)");
    b.addEventListener("click", () => busy(b, "Mengunduh…", async () => {
      try {
        const blob = await api.download(`/api/payroll/runs/${p.y}/${p.m}/slips/${encodeURIComponent(account.employee_id)}.pdf`);
        saveBlob(blob, `slip-tpp-${p.y}-${String(p.m).padStart(2, "0")}.pdf`);
      } catch (err) {
        toast(err.message, "warn");
      }
    }));
    return b;
  }

  function myLine(line, p) {
    const status = line.run_status || line.status;
    const corrections = Array.isArray(line.corrections) ? line.corrections : [];
    const hasLine = line.inputs !== null && line.inputs !== undefined;
    return h("div", null,
      h("div", { class: "card-head" },
        h("p", { class: "muted" }, `${monthName(p.y, p.m)}${status ? ` · perhitungan ${RUN_STATUS[status] || status}` : ""}`),
        slipButton(p)),
      hasLine
        ? h("div", { class: "summary" },
          stat("Bruto", rupiah(line.gross)),
          stat("PPh 21", rupiah(line.pph)),
          stat("BPJS Kesehatan", rupiah(line.bpjs)),
          stat("Diterima (bersih)", rupiah(line.net), "st-approved", "my-net"))
        : null,
      hasLine ? h("h3", null, "Mengapa sebesar ini?") : null,
      hasLine ? explanation(line) : null,
      corrections.length ? h("h3", null, "Koreksi (rapel) bulan sebelumnya") : null,
      corrections.length ? correctionsTable(corrections) : null,
      corrections.length && line.payable !== undefined
        ? h("p", { class: "payable" }, "Jumlah dibayar bulan ini: ", h("strong", { id: "my-payable" }, rupiah(line.payable)))
        : null);
  }

  const p0 = period();
  if (p0) {
    const jobs = [];
    if (meSection) jobs.push(meSection.load(p0));
    if (runSection) jobs.push(runSection.show(p0, { quiet: true }));
    await Promise.all(jobs);
  }
}

/** "1.0000" → "1", "1.2500" → "1,25" (a factor, not money). */
function decimal(value) {
  const s = String(value);
  if (!/^-?\d+(\.\d+)?$/.test(s)) return s;
  return s.includes(".") ? s.replace(/\.?0+$/, "").replace(".", ",") : s;
}

function stat(label, value, cls = "", id = undefined) {
  return h("div", { class: `stat ${cls}`, id }, h("span", { class: "stat-label" }, label), h("strong", { class: "stat-value" }, value));
}

function warningList(run) {
  const warnings = Array.isArray(run && run.warnings) ? run.warnings : [];
  if (!warnings.length) return null;
  return h("div", { class: "notice" },
    h("strong", null, "Perhatian:"),
    h("ul", null, warnings.map((w) => h("li", null,
      typeof w === "string" ? w : [w.name, w.message || w.reason || w.code].filter(Boolean).join(" — ")))));
}

/** Corrections (rapel) of locked months paid in this month. */
function correctionsTable(corrections, withPerson = false) {
  return h("div", { class: "table-wrap" },
    h("table", { class: "table table-money" },
      h("thead", null, h("tr", null,
        withPerson ? [h("th", { scope: "col" }, "Nama"), h("th", { scope: "col" }, "NIP")] : null,
        h("th", { scope: "col" }, "Untuk bulan"), h("th", { scope: "col" }, "Sebab"),
        ["Bruto", "PPh 21", "BPJS", "Bersih"].map((t) => h("th", { scope: "col", class: "num" }, t)))),
      h("tbody", null, corrections.map((c) => h("tr", null,
        withPerson ? [h("td", { class: "name" }, c.name || ""), h("td", { class: "nowrap" }, nip(c.nip))] : null,
        h("td", { class: "nowrap" }, monthName(c.for_year, c.for_month)),
        h("td", null, c.cause_text || (c.cause && c.cause.cause_text) || (typeof c.cause === "string" ? c.cause : "")),
        h("td", { class: "num nowrap" }, rupiah(c.gross)),
        h("td", { class: "num nowrap" }, rupiah(c.pph)),
        h("td", { class: "num nowrap" }, rupiah(c.bpjs)),
        h("td", { class: "num nowrap strong" }, rupiah(c.net)))))));
}

function skippedList(run) {
  const skipped = Array.isArray(run && run.skipped) ? run.skipped : [];
  if (!skipped.length) return null;
  return h("div", { class: "notice" },
    h("strong", null, `${skipped.length} pegawai belum dapat dihitung:`),
    h("ul", null, skipped.map((s) => h("li", null,
      [s.name || (s.nip ? null : `Pegawai ${s.employee_id}`), s.nip ? `(${nip(s.nip)})` : null, "—", s.reason || s.message]
        .filter(Boolean).join(" ")))));
}

/** The line's inputs as steps a person can follow, ending in the figures themselves. */
function explanation(line) {
  const v = (...n) => pick(line, ...n);
  const rows = [];
  const add = (label, value, how) => rows.push(h("tr", null,
    h("th", { scope: "row" }, label), h("td", { class: "num nowrap" }, value), h("td", { class: "muted small" }, how || "")));

  const kelas = v("kelas_jabatan");
  const factor = v("factor");
  add("Kelas jabatan", kelas ?? "—", "menentukan besaran dasar TPP menurut kebijakan tahun ini");
  add("Besaran dasar", rupiah(v("base")), factor !== null && Number(factor) !== 1 ? `× faktor jabatan ${decimal(factor)}` : "faktor jabatan 1");

  const approved = v("approved_minutes");
  const target = v("target_minutes");
  const days = v("working_days");
  const perDay = v("minutes_per_day");
  add("Menit kerja disetujui", approved !== null ? `${number(approved)} menit` : "—", "jumlah menit kegiatan harian yang disetujui atasan");
  add("Target menit", target !== null ? `${number(target)} menit` : "—",
    days !== null && perDay !== null ? `${number(days)} hari kerja × ${number(perDay)} menit` : "");
  add("Produktivitas", productivityPct(line), "min(menit disetujui, target) ÷ target");
  const bracket = v("productivity_rule") === "bracket";
  const paidPct = bracket && v("productivity_paid_pct") !== null ? percent(v("productivity_paid_pct")) : productivityPct(line);
  if (bracket) {
    const brackets = Array.isArray(v("productivity_brackets")) ? v("productivity_brackets") : [];
    add("Produktivitas yang dibayar", paidPct,
      `menurut tabel rentang kebijakan: ${brackets.map((b) => `≥ ${percent(b.min_pct)} → ${percent(b.pay_pct)}`).join("; ")}`);
  }
  const ded = v("deductions_pct");
  add("Disiplin", disciplinePct(line), ded !== null ? `100 % − potongan kehadiran ${percent(ded)}` : "100 % − potongan kehadiran");

  const w = v("weights_pct") || {};
  const wp = w.performance ?? v("perf_weight_pct");
  const wd = w.discipline ?? v("disc_weight_pct");
  if (wp !== null && wp !== undefined) add("Bobot", `${percent(wp)} / ${percent(wd)}`, "kinerja / disiplin");
  const sf = v("status_factor_pct");
  const st = v("status");
  if (sf !== null) add("Faktor status", percent(sf), st ? `status ${st}${st === "CPNS" ? " (CPNS menerima 80 %)" : ""}` : "");
  const cut = v("sanction_cut_pct");
  if (cut !== null && Number(cut) !== 0) add("Potongan sanksi disiplin", percent(cut), "PP 94/2021");

  const cutText = cut !== null && Number(cut) !== 0 ? ` × (100 % − ${percent(cut)})` : "";
  add("Bruto", rupiah(line.gross),
    `${rupiah(v("base"))} × ${decimal(factor ?? 1)} × (${percent(wp)} × ${paidPct} + `
    + `${percent(wd)} × ${disciplinePct(line)}) × ${percent(sf ?? 100)}${cutText}, dibulatkan ke rupiah terdekat`);
  const gol = v("golongan");
  add("PPh 21", rupiah(line.pph), `tarif ${percent(v("pph_rate_pct"))}${gol ? ` untuk golongan ${gol}` : ""} × bruto`);
  const salary = v("salary");
  const cap = v("bpjs_cap");
  const already = v("bpjs_already");
  add("BPJS Kesehatan", rupiah(line.bpjs),
    `${percent(v("bpjs_rate_pct"))} × min(gaji ${salary === null ? "(belum tercatat)" : rupiah(salary)} + bruto, batas ${rupiah(cap)})`
    + (already !== null ? ` − yang sudah dipotong dari gaji ${rupiah(already)}` : ""));
  add("Diterima (bersih)", rupiah(line.net), "bruto − PPh 21 − BPJS");

  return h("div", { class: "table-wrap" },
    h("table", { class: "table explain" },
      h("caption", { class: "sr-only" }, "Rincian perhitungan TPP"),
      h("thead", null, h("tr", null,
        h("th", { scope: "col" }, "Unsur"), h("th", { scope: "col", class: "num" }, "Nilai"), h("th", { scope: "col" }, "Keterangan"))),
      h("tbody", null, rows)));
}
