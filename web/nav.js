// The navigation: every view of the client, in menu order, one line each. A view is shown to an
// account holding any of its `roles` (the services check again on every call). "pegawai" counts
// only for an account linked to an employee record (a pure admin account has no entries).
//
// To add a view: write web/views/<name>.js exporting `render(container, ctx)` (ctx = {account,
// params: the route's further /segments}) and add its line here; a module exporting its function
// under another name says which in `render`, e.g.
//   { route: "pegawai", label: "Pegawai", roles: ["admin_bkd"], load: () => import("./views/pegawai.js"), render: "renderPegawai" },
// `load` is a dynamic import, so a view's code is fetched only when someone opens it. The
// function may return a cleanup function, called when the person leaves the view.
//
// Supervisors are not a role: whoever holds a parent position is one, so Validasi and Tim Saya
// are every employee's (empty for someone who supervises nobody).

export const VIEWS = [
  { route: "bulan", label: "Bulan Saya", roles: ["pegawai"], load: () => import("./views/bulan.js") },
  { route: "kegiatan", label: "Kegiatan", roles: ["pegawai"], load: () => import("./views/kegiatan.js") },
  { route: "keberatan", label: "Keberatan", roles: ["pegawai", "majelis"], load: () => import("./views/keberatan.js") },
  { route: "validasi", label: "Validasi", roles: ["pegawai"], load: () => import("./views/validasi.js") },
  { route: "tim", label: "Tim Saya", roles: ["pegawai"], load: () => import("./views/tim.js") },
  { route: "majelis", label: "Majelis", roles: ["majelis"], load: () => import("./views/majelis.js") },
  { route: "tpp", label: "TPP", roles: ["pegawai", "bpkad"], load: () => import("./views/tpp.js") },
  // The back office (BKD, Bagian Organisasi, BPKAD), one line each.
  { route: "beranda", label: "Beranda", roles: ["admin_bkd"], load: () => import("./views/beranda.js"), render: "renderBeranda" },
  { route: "pegawai", label: "Pegawai", roles: ["admin_bkd"], load: () => import("./views/pegawai.js"), render: "renderPegawai" },
  { route: "impor", label: "Impor", roles: ["admin_bkd"], load: () => import("./views/bkd_kerja.js"), render: "renderImpor" },
  { route: "kalender", label: "Kalender", roles: ["admin_bkd"], load: () => import("./views/bkd_kerja.js"), render: "renderKalender" },
  { route: "presensi", label: "Presensi", roles: ["admin_bkd"], load: () => import("./views/bkd_kerja.js"), render: "renderPresensi" },
  { route: "izin", label: "Izin Susulan", roles: ["admin_bkd"], load: () => import("./views/izin.js"), render: "renderIzin" },
  { route: "laporan", label: "Laporan", roles: ["admin_bkd"], load: () => import("./views/laporan.js"), render: "renderLaporan" },
  { route: "struktur", label: "Struktur", roles: ["organisasi"], load: () => import("./views/organisasi.js"), render: "renderStruktur" },
  { route: "abk", label: "ABK", roles: ["organisasi"], load: () => import("./views/organisasi.js"), render: "renderAbk" },
  { route: "bulanan", label: "Bulan TPP", roles: ["bpkad"], load: () => import("./views/bpkad.js"), render: "renderBulanan" },
  { route: "kebijakan", label: "Kebijakan", roles: ["bpkad"], load: () => import("./views/bpkad.js"), render: "renderKebijakan" },
  { route: "gaji", label: "Gaji & Sanksi", roles: ["bpkad"], load: () => import("./views/bpkad.js"), render: "renderGaji" },
  // Role requests waiting for their second person (identity grants.py): BKD, BPKAD, Bagian Organisasi.
  { route: "peran", label: "Persetujuan Peran", roles: ["admin_bkd", "bpkad", "organisasi"], load: () => import("./views/peran.js") },
  { route: "akun", label: "Akun", roles: ["*"], load: () => import("./views/akun.js") },
];

/** The roles that count for the menu: "pegawai" only with an employee record; "*" for everyone. */
export function effectiveRoles(account) {
  const roles = new Set(["*", ...account.roles]);
  if (!account.employee_id) roles.delete("pegawai");
  return roles;
}

/** The views an account may open, in menu order. An account still on its one-time password
 *  sees only Akun: identity gives it a token every other service refuses. */
export function viewsFor(account) {
  if (!account) return [];
  if (account.must_change_password) return VIEWS.filter((v) => v.route === "akun");
  const roles = effectiveRoles(account);
  return VIEWS.filter((v) => v.roles.some((r) => roles.has(r)));
}
