// Swagger UI over each service's /openapi.json (through the gateway). A file of its own, not an
// inline script: the gateway's Content-Security-Policy allows scripts from this origin only.
"use strict";
(function () {
  const services = [
    ["identity", "identity — BKD: pegawai, penempatan, akun, token"],
    ["organization", "organization — Bagian Organisasi: unit, jabatan, uraian tugas"],
    ["activity", "activity — BKD: kegiatan harian, presensi, kalender kerja"],
    ["approval", "approval — BKD: validasi atasan, keberatan"],
    ["payroll", "payroll — BPKAD: kebijakan dan perhitungan TPP"],
  ];
  const wanted = new URLSearchParams(window.location.search).get("layanan");
  window.ui = SwaggerUIBundle({
    urls: services.map(([name, label]) => ({ url: `/api/${name}/openapi.json`, name: label })),
    "urls.primaryName": (services.find(([name]) => name === wanted) || services[0])[1],
    dom_id: "#swagger",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "StandaloneLayout",
    // The token stays in this page only, as the application itself keeps it.
    persistAuthorization: false,
    validatorUrl: null,
  });
})();
