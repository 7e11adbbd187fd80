// Bagian Organisasi: the unit tree (OPD → bidang → subbidang) to browse and edit; the positions of
// a unit (kelas jabatan, parent, history) and their duties (norma waktu, yearly volume); duty and
// placement imports; the ABK report with the gap highlighted, a chart per unit, downloadable.
import * as api from "../api.js";
import { h, replace, field, alertBox, showError, clearErrors, busy, toast } from "../dom.js";
import { number, longDate, todayWib } from "../format.js";
import { ensureStyles, loadUnits, importPanel, badge } from "./bo.js";
import { counts } from "./bkd_kerja.js";
import { barChart } from "./chart.js";
import { saveCsv } from "./transfer.js";

const KINDS = [["jpt", "JPT"], ["administrator", "Administrator"], ["pengawas", "Pengawas"], ["pelaksana", "Pelaksana"], ["fungsional", "Fungsional"]];
const UNIT_KIND = { opd: "OPD", bidang: "Bidang", subbidang: "Subbidang" };
const CHILD_KIND = { opd: "bidang", bidang: "subbidang" };

export async function renderStruktur(container) {
  ensureStyles();
  const treeEl = h("div", { id: "unit-tree" });
  const side = h("div", { id: "unit-detail" });
  const alert = alertBox();
  let units = null;
  let positions = [];
  let selected = null;
  replace(container, h("h1", { tabindex: "-1" }, "Struktur organisasi"), alert,
    h("div", { class: "split" }, h("section", { class: "card" }, h("h2", null, "Unit kerja"), treeEl, newUnitForm(null)), side),
    importPanel({
      id: "import-duties", title: "Impor uraian tugas", path: "/api/organization/duties/import", summary: counts,
      describe: "Kolom: position_code, description, output_unit, norma_waktu (menit per satuan, 1–450), yearly_volume (boleh kosong).",
      sample: { name: "contoh-impor-uraian-tugas.csv", header: ["position_code", "description", "output_unit", "norma_waktu", "yearly_volume"],
        rows: [["KODE-JABATAN", "Menyusun laporan kegiatan", "Laporan", "120", "24"]] },
      onDone: () => selected && showUnit(selected),
    }).el,
    importPanel({
      id: "import-placements-org", title: "Impor penempatan", path: "/api/identity/placements/import", summary: counts,
      describe: "Dikerjakan oleh BKD (peran admin_bkd): nip, position_code, start_date, kind, end_date.",
      sample: { name: "contoh-impor-penempatan.csv", header: ["nip", "position_code", "start_date", "kind", "end_date"],
        rows: [["199001012015031001", "KODE-JABATAN", todayWib(), "definitive", ""]] },
    }).el);

  async function reload() {
    clearErrors(container, alert);
    try {
      [units, positions] = await Promise.all([loadUnits(), api.get("/api/organization/positions").then((b) => b.positions || [])]);
    } catch (err) { showError(container, alert, err); return; }
    drawTree();
    if (selected) showUnit(selected);
  }

  function drawTree() {
    const node = (u) => {
      const link = h("button", { type: "button", class: "unit-link", "aria-current": selected === u.id ? "true" : false, dataset: { unitId: u.id } }, u.name);
      link.addEventListener("click", () => { selected = u.id; drawTree(); showUnit(u.id); });
      const kids = units.children.get(u.id) || [];
      return h("li", null, h("div", { class: "tree-node" }, link, h("span", { class: "kind" }, UNIT_KIND[u.kind] || u.kind)),
        kids.length ? h("ul", null, kids.map(node)) : null);
    };
    const roots = units.children.get("") || [];
    replace(treeEl, roots.length ? h("ul", { class: "tree" }, roots.map(node)) : h("p", { class: "empty" }, "Belum ada unit."));
  }

  function newUnitForm(parent) {
    const a = alertBox();
    const code = h("input", { autocomplete: "off" });
    const name = h("input");
    const go = h("button", { type: "submit", class: "btn btn-ghost" }, parent ? `Tambah ${CHILD_KIND[parent.kind] || "sub-unit"}` : "Tambah OPD");
    const form = h("form", { novalidate: true, class: "inline-form" }, a, field("Kode", code, { name: "code" }), field("Nama", name, { name: "name" }), go);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      clearErrors(form, a);
      try {
        const u = await busy(go, "…", () => api.post("/api/organization/units", { code: code.value.trim(), name: name.value.trim(),
          kind: parent ? CHILD_KIND[parent.kind] : "opd", parent_id: parent ? parent.id : null }));
        toast(`Unit ${u.name} ditambahkan.`);
        selected = u.id;
        reload();
      } catch (err) { showError(form, a, err); }
    });
    return form;
  }

  function showUnit(id) {
    const u = units.byId.get(id);
    if (!u) return;
    const a = alertBox();
    const rename = h("input", { value: u.name });
    const save = h("button", { type: "submit", class: "btn btn-small btn-ghost" }, "Ganti nama");
    const dissolve = h("button", { type: "button", class: "btn btn-small btn-reject" }, "Bubarkan");
    const renameForm = h("form", { novalidate: true, class: "inline-form" }, field("Nama unit", rename, { name: "name" }), save, dissolve);
    renameForm.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      try { await busy(save, "…", () => api.patch(`/api/organization/units/${id}`, { name: rename.value.trim() })); toast("Nama unit diubah."); reload(); } catch (err) { showError(renameForm, a, err); }
    });
    dissolve.addEventListener("click", async () => {
      try { await busy(dissolve, "…", () => api.del(`/api/organization/units/${id}`)); toast("Unit dibubarkan."); selected = null; replace(side); reload(); } catch (err) { showError(side, a, err); }
    });
    const here = positions.filter((p) => p.unit_id === id && p.active !== false).sort((x, y) => y.kelas_jabatan - x.kelas_jabatan);
    const posList = here.length ? h("ul", { class: "queue-list", id: "unit-positions" }, here.map((p) => {
      const open = h("button", { type: "button", class: "btn btn-small btn-ghost", "aria-label": `Kelola ${p.name}` }, "Kelola");
      const box = h("div");
      open.addEventListener("click", () => showPosition(p, box));
      return h("li", { class: "position-item", dataset: { code: p.code } }, h("div", { class: "tree-node" }, h("strong", null, p.name),
        h("span", { class: "kind" }, `${p.code} · kelas ${p.kelas_jabatan} · ${number(p.holders_today ?? 0)} pemangku`), open), box);
    })) : h("p", { class: "empty" }, "Belum ada jabatan di unit ini.");
    replace(side, h("section", { class: "card" }, h("div", { class: "card-head" }, h("h2", null, u.name), badge(UNIT_KIND[u.kind] || u.kind, "st-submitted")),
      a, renameForm, CHILD_KIND[u.kind] ? newUnitForm(u) : null, h("h3", null, "Jabatan"), posList, positionForm(u)));
  }

  function positionForm(u, existing) {
    const a = alertBox();
    const code = h("input", { value: existing ? existing.code : "", autocomplete: "off", disabled: Boolean(existing) });
    const name = h("input", { value: existing ? existing.name : "" });
    const kind = h("select", null, KINDS.map(([v, l]) => h("option", { value: v }, l)));
    kind.value = existing ? existing.kind : "pelaksana";
    const kelas = h("input", { type: "number", min: "1", max: "17", value: existing ? String(existing.kelas_jabatan) : "7" });
    const eselon = h("input", { value: existing && existing.eselon ? existing.eselon : "", placeholder: "mis. III.b (struktural)" });
    const parent = h("select", null, h("option", { value: "" }, "— tidak ada (puncak) —"),
      positions.filter((p) => p.active !== false && (!existing || p.id !== existing.id)).sort((x, y) => x.name.localeCompare(y.name, "id"))
        .map((p) => h("option", { value: p.id }, `${p.name} (${p.code})`)));
    parent.value = existing && existing.parent_id ? existing.parent_id : "";
    const go = h("button", { type: "submit", class: "btn btn-primary" }, existing ? "Simpan jabatan" : "Tambah jabatan");
    const form = h("form", { novalidate: true, class: existing ? "" : "new-position" }, h("h3", null, existing ? "Ubah jabatan" : "Jabatan baru di unit ini"), a,
      h("div", { class: "grid-2" }, field("Kode jabatan", code, { name: "code" }), field("Nama jabatan", name, { name: "name" })),
      h("div", { class: "grid-3" }, field("Jenis", kind, { name: "kind" }), field("Kelas jabatan (1–17)", kelas, { name: "kelas_jabatan" }),
        field("Eselon", eselon, { name: "eselon" })),
      field("Atasan (jabatan induk)", parent, { name: "parent_id" }), h("div", { class: "actions" }, go));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      clearErrors(form, a);
      const body = { name: name.value.trim(), kind: kind.value, kelas_jabatan: Number(kelas.value), parent_id: parent.value || null,
        eselon: eselon.value.trim() || null };
      try {
        if (existing) await busy(go, "…", () => api.patch(`/api/organization/positions/${existing.id}`, body));
        else await busy(go, "…", () => api.post("/api/organization/positions", { ...body, code: code.value.trim(), unit_id: u.id }));
        toast(existing ? "Jabatan diubah (versi baru tercatat)." : `Jabatan ${body.name} ditambahkan.`);
        reload();
      } catch (err) { showError(form, a, err); }
    });
    return form;
  }

  async function showPosition(p, box) {
    const a = alertBox();
    replace(box, h("p", { class: "loading" }, "Memuat…"));
    let duties = [];
    let history = [];
    try {
      [duties, history] = await Promise.all([api.get(`/api/organization/positions/${p.id}/duties`).then((b) => b.duties || []),
        api.get(`/api/organization/positions/${p.id}/history`).then((b) => b.versions || [])]);
    } catch (err) { replace(box, a); showError(box, a, err); return; }
    const rows = duties.map((d) => {
      const vol = h("input", { type: "number", min: "0", value: d.yearly_volume ?? "", "aria-label": `Volume setahun: ${d.description}` });
      const set = h("button", { type: "button", class: "btn btn-small btn-ghost" }, "Simpan");
      set.addEventListener("click", async () => {
        try { await busy(set, "…", () => api.patch(`/api/organization/duties/${d.id}`, { yearly_volume: vol.value === "" ? null : Number(vol.value) })); toast("Volume disimpan."); } catch (err) { toast(err.message, "warn"); }
      });
      const retire = h("button", { type: "button", class: "btn btn-small btn-reject" }, "Tidak berlaku");
      retire.addEventListener("click", async () => {
        try { await busy(retire, "…", () => api.post(`/api/organization/duties/${d.id}/retire`, {})); toast("Uraian tugas tidak berlaku lagi."); showPosition(p, box); } catch (err) { toast(err.message, "warn"); }
      });
      return h("tr", null, h("td", null, d.description), h("td", null, d.output_unit), h("td", { class: "num" }, `${number(d.norma_waktu)} menit`),
        h("td", null, h("div", { class: "inline-form" }, vol, set)), h("td", null, retire));
    });
    const desc = h("input");
    const unitOut = h("input", { placeholder: "Laporan, Dokumen, …" });
    const norma = h("input", { type: "number", min: "1", max: "450" });
    const yearly = h("input", { type: "number", min: "0" });
    const add = h("button", { type: "submit", class: "btn btn-primary" }, "Tambah uraian tugas");
    const dutyForm = h("form", { novalidate: true, class: "new-duty" }, h("h4", null, "Uraian tugas baru"), a,
      field("Uraian tugas", desc, { name: "description" }),
      h("div", { class: "grid-3" }, field("Satuan hasil", unitOut, { name: "output_unit" }), field("Norma waktu (menit per satuan)", norma, { name: "norma_waktu" }),
        field("Volume setahun", yearly, { name: "yearly_volume" })), h("div", { class: "actions" }, add));
    dutyForm.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      clearErrors(dutyForm, a);
      try {
        await busy(add, "…", () => api.post(`/api/organization/positions/${p.id}/duties`, { description: desc.value.trim(), output_unit: unitOut.value.trim(),
          norma_waktu: Number(norma.value), yearly_volume: yearly.value === "" ? null : Number(yearly.value) }));
        toast("Uraian tugas ditambahkan.");
        showPosition(p, box);
      } catch (err) { showError(dutyForm, a, err); }
    });
    replace(box, h("div", { class: "position-detail" },
      h("div", { class: "table-wrap" }, h("table", { class: "table duties", id: `duties-${p.code}` },
        h("thead", null, h("tr", null, ["Uraian tugas", "Satuan", "Norma waktu", "Volume setahun", ""].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", null, rows.length ? rows : h("tr", null, h("td", { colspan: "5", class: "empty" }, "Belum ada uraian tugas."))))),
      dutyForm, positionForm(units.byId.get(p.unit_id), p),
      h("details", null, h("summary", null, `Riwayat jabatan (${history.length} versi)`),
        h("ul", null, history.map((v) => h("li", null, `Versi ${v.version} berlaku ${longDate(v.valid_from)}: ${v.name}, kelas ${v.kelas_jabatan}${v.recorded_by ? ` — oleh ${v.recorded_by}` : ""}`))))));
  }

  await reload();
}

// ---- ABK -------------------------------------------------------------------------------------

export async function renderAbk(container) {
  ensureStyles();
  const units = await loadUnits().catch(() => null);
  const day = h("input", { type: "date", value: todayWib() });
  const unit = h("select", null, units ? units.options("Semua unit") : []);
  const alert = alertBox();
  const out = h("div");
  const dl = h("button", { type: "button", class: "btn btn-small btn-ghost" }, "Unduh CSV");
  let last = null;
  dl.addEventListener("click", () => last && saveCsv(`abk-${day.value}.csv`, ["unit", "jabatan", "kode", "kelas", "beban_menit", "kebutuhan", "dibulatkan", "ada", "selisih"],
    last.positions.map((p) => [units ? units.name(p.unit_id) : p.unit_id, p.name, p.code, p.kelas_jabatan, p.workload_minutes, p.required, p.required_rounded, p.actual, p.gap])));
  replace(container, h("div", { class: "view-head" }, h("h1", { tabindex: "-1" }, "Analisis beban kerja (ABK)"),
    h("div", { class: "inline-form" }, field("Tanggal", day, { name: "date", className: "inline" }), field("Unit", unit, { name: "unit_id", className: "inline" }), dl)), alert, out);

  async function load() {
    clearErrors(container, alert);
    try {
      last = await api.get(`/api/organization/abk?date=${day.value}${unit.value ? `&unit_id=${unit.value}` : ""}`);
    } catch (err) { showError(container, alert, err); return; }
    const u = last.units || [];
    const gapCls = (g) => (g < 0 ? "gap-neg" : g > 0 ? "gap-pos" : "gap-zero");
    replace(out, h("section", { class: "card" },
      h("p", { class: "muted" }, `Kebutuhan = Σ(volume setahun × norma waktu) ÷ ${number(last.effective_minutes_per_year)} menit efektif setahun${last.policy_is_default ? " (bawaan)" : ""}. Selisih = ada − kebutuhan (dibulatkan).`),
      u.length ? barChart({ title: "Kebutuhan dan jumlah pegawai per unit", items: u.map((x) => ({ label: x.name, value: Number(x.required_rounded), value2: x.actual, gap: x.gap })),
        format: number, series: ["kebutuhan", "ada"], highlight: (i) => i.gap < 0, id: "abk-chart" }) : null,
      h("div", { class: "table-wrap" }, h("table", { class: "table", id: "abk-table" },
        h("thead", null, h("tr", null, ["Jabatan", "Unit", "Kelas", "Beban (menit)", "Kebutuhan", "Ada", "Selisih"].map((t, i) => h("th", { scope: "col", class: i >= 2 ? "num" : null }, t)))),
        h("tbody", null, (last.positions || []).map((p) => h("tr", { class: p.gap !== 0 ? "row-gap" : null },
          h("td", { class: "name" }, p.name, p.duties_without_volume ? h("span", { class: "muted small" }, ` (${p.duties_without_volume} tugas tanpa volume)`) : null),
          h("td", null, units ? units.name(p.unit_id) : p.unit_id), h("td", { class: "num" }, p.kelas_jabatan), h("td", { class: "num" }, number(p.workload_minutes)),
          h("td", { class: "num" }, `${String(p.required).replace(".", ",")} → ${number(p.required_rounded)}`), h("td", { class: "num" }, number(p.actual)),
          h("td", { class: `num ${gapCls(p.gap)}` }, p.gap > 0 ? `+${p.gap}` : String(p.gap)))))))));
  }
  day.addEventListener("change", load);
  unit.addEventListener("change", load);
  await load();
}
