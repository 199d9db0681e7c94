/**
 * Build the PWA into dist/:
 *   dist/index.html            officer app, served at /
 *   dist/console/index.html    dispatcher console, served at /console
 *   dist/assets/*-[hash].js|css
 *   dist/icons/*, dist/manifest.webmanifest
 *   dist/sw.js                 service worker (not hashed: its URL is its identity)
 *   dist/build-report.json     gzipped sizes, also printed
 *
 * `node build.mjs` — production build (what `npm run build` runs).
 */
import * as esbuild from 'esbuild';
import { injectManifest } from 'workbox-build';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { iconFiles } from './scripts/icons.mjs';

const ROOT = dirname(fileURLToPath(import.meta.url));
const SRC = join(ROOT, 'src');
const DIST = join(ROOT, 'dist');

/** Officer app JS must stay small for 2G/EDGE areas (DESIGN.md budget: tens of KB gzipped). */
const OFFICER_JS_BUDGET_GZIP = 40 * 1024;
/** The console (desk PCs, Leaflet included): a ceiling that keeps it honest (CONSOLE-NEEDS.md). */
const CONSOLE_JS_BUDGET_GZIP = 120 * 1024;

/** Pages: entry module, HTML template, output HTML path under dist/. */
const PAGES = {
  officer: { entry: 'officer/main.jsx', template: 'officer/index.html', html: 'index.html' },
  console: { entry: 'console/main.jsx', template: 'console/index.html', html: 'console/index.html' },
  analysis: { entry: 'analysis/main.jsx', template: 'analysis/index.html', html: 'analysis/index.html' },
};

const THEME_COLOUR = '#0b1220';
const BACKGROUND_COLOUR = '#0b1220';

/** Browsers on the duty phones: Chrome/WebView on Android 8+, Safari 15+. */
const TARGET = ['es2020', 'chrome90', 'safari15', 'firefox90'];

/**
 * The officer app bundles English only; every other language is a file of its own
 * (assets/i18n-<lang>-<HASH>.json, precached), fetched when chosen. Returns their URLs.
 */
function writeLanguageFiles() {
  /** @type {Record<string, string>} */
  const urls = {};
  for (const lang of ['sr-Latn', 'sr-Cyrl', 'sl']) {
    const text = JSON.stringify(JSON.parse(readFileSync(join(SRC, 'i18n', `${lang}.json`), 'utf8')));
    // Same shape as esbuild's [hash] (8 of A-Z0-9), so the precache need not cache-bust it.
    const hash = createHash('sha256').update(text).digest('hex').slice(0, 8).toUpperCase();
    const path = `assets/i18n-${lang}-${hash}.json`;
    writeOut(path, text);
    urls[lang] = `/${path}`;
  }
  return urls;
}

/** @param {Record<string, string>} languageUrls */
async function buildPages(languageUrls) {
  const result = await esbuild.build({
    define: { __I18N_URLS__: JSON.stringify(languageUrls) },
    absWorkingDir: ROOT,
    entryPoints: Object.fromEntries(Object.entries(PAGES).map(([name, p]) => [name, join(SRC, p.entry)])),
    outdir: DIST,
    entryNames: 'assets/[name]-[hash]',
    assetNames: 'assets/[name]-[hash]',
    bundle: true,
    // No splitting: each page is one self-contained file, so the officer
    // app never waits for a second request or pays for console code.
    splitting: false,
    format: 'esm',
    minify: true,
    sourcemap: 'linked',
    target: TARGET,
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'none',
    // Images referenced from CSS (e.g. Leaflet's stock stylesheet) become hashed files.
    loader: { '.png': 'file', '.svg': 'file' },
    metafile: true,
    logLevel: 'warning',
  });
  /** @type {Record<string, {js: string, css: string | null}>} */
  const outputs = {};
  for (const [file, info] of Object.entries(result.metafile.outputs)) {
    if (!info.entryPoint) continue;
    const name = Object.keys(PAGES).find((n) => join(ROOT, info.entryPoint) === join(SRC, PAGES[n].entry));
    if (name) outputs[name] = { js: `/${relative(DIST, join(ROOT, file))}`, css: info.cssBundle ? `/${relative(DIST, join(ROOT, info.cssBundle))}` : null };
  }
  for (const [name, page] of Object.entries(PAGES)) {
    const out = outputs[name];
    if (!out) throw new Error(`esbuild produced no bundle for ${name}`);
    const html = readFileSync(join(SRC, page.template), 'utf8')
      .replace('<!--css-->', out.css ? `<link rel="stylesheet" href="${out.css}">` : '')
      .replace('<!--js-->', `<script type="module" src="${out.js}"></script>`);
    assertNoInlineCode(html, page.template);
    writeOut(page.html, html);
  }
  return outputs;
}

/**
 * The server's CSP has no 'unsafe-inline': fail the build, not the page.
 * @param {string} html @param {string} name
 */
function assertNoInlineCode(html, name) {
  const inlineScript = /<script(?![^>]*\bsrc=)[^>]*>/i.test(html);
  const inlineStyle = /<style[\s>]/i.test(html) || /\sstyle=/i.test(html) || /\son[a-z]+=/i.test(html);
  if (inlineScript || inlineStyle) throw new Error(`${name}: inline script, style or event handler (blocked by the CSP)`);
}

function writeIconsAndManifest() {
  for (const [path, data] of Object.entries(iconFiles())) writeOut(path, data);
  const manifest = {
    name: 'Patrol',
    short_name: 'Patrol',
    description: 'Patrol unit status, assignments and field reports',
    id: '/',
    start_url: '/',
    scope: '/',
    display: 'standalone',
    orientation: 'portrait',
    theme_color: THEME_COLOUR,
    background_color: BACKGROUND_COLOUR,
    icons: [
      { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
      { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any' },
      { src: '/icons/maskable-192.png', sizes: '192x192', type: 'image/png', purpose: 'maskable' },
      { src: '/icons/maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
      { src: '/icons/icon.svg', sizes: 'any', type: 'image/svg+xml', purpose: 'any' },
    ],
  };
  writeOut('manifest.webmanifest', `${JSON.stringify(manifest, null, 2)}\n`);
}

async function buildServiceWorker() {
  await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: [join(SRC, 'sw/sw.js')],
    outfile: join(DIST, 'sw.js'),
    bundle: true,
    format: 'iife',
    minify: true,
    target: TARGET,
    legalComments: 'none',
    // Workbox strips its debug logging on this define.
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'warning',
  });
  // Replaces self.__WB_MANIFEST with the list of files and revisions.
  const { count, size, warnings } = await injectManifest({
    swSrc: join(DIST, 'sw.js'),
    swDest: join(DIST, 'sw.js'),
    globDirectory: DIST,
    // The officer app and the console work offline; the commanders' analysis page is
    // online-only and stays out of the precache, so phones don't download it.
    globPatterns: ['index.html', 'console/index.html', 'assets/officer-*.{js,css}', 'assets/console-*.{js,css}',
      'assets/i18n-*.json', 'icons/*', 'manifest.webmanifest'],
    // esbuild's [hash] is 8 base32 characters: such URLs are already unique per content.
    dontCacheBustURLsMatching: /-[A-Z0-9]{8}\.(js|css|json)$/,
    maximumFileSizeToCacheInBytes: 2 * 1024 * 1024,
  });
  for (const w of warnings) console.warn(`workbox: ${w}`);
  return { count, size };
}

/** @param {string} path under dist/ @param {string | Buffer} data */
function writeOut(path, data) {
  const full = join(DIST, path);
  mkdirSync(dirname(full), { recursive: true });
  writeFileSync(full, data);
}

/** @param {string} urlPath e.g. /assets/officer-AB12CD34.js */
function sizes(urlPath) {
  const data = readFileSync(join(DIST, urlPath));
  return { file: urlPath.replace(/^\//, ''), bytes: data.length, gzip_bytes: gzipSync(data, { level: 9 }).length };
}

async function main() {
  rmSync(DIST, { recursive: true, force: true });
  const pages = await buildPages(writeLanguageFiles());
  writeIconsAndManifest();
  const precache = await buildServiceWorker();

  const report = {
    command: 'npm run build',
    bundles: {
      officer_js: sizes(pages.officer.js),
      officer_css: pages.officer.css ? sizes(pages.officer.css) : null,
      console_js: sizes(pages.console.js),
      console_css: pages.console.css ? sizes(pages.console.css) : null,
      sw_js: sizes('/sw.js'),
    },
    precache: { files: precache.count, bytes: precache.size },
    budget: { officer_js_gzip_bytes: OFFICER_JS_BUDGET_GZIP, console_js_gzip_bytes: CONSOLE_JS_BUDGET_GZIP },
  };
  writeOut('build-report.json', `${JSON.stringify(report, null, 2)}\n`);

  const kb = (/** @type {number} */ n) => `${(n / 1024).toFixed(1)} KB`;
  console.log('bundle                           raw        gzip');
  for (const [name, s] of Object.entries(report.bundles)) {
    if (s) console.log(`${name.padEnd(12)} ${s.file.padEnd(30).slice(0, 30)} ${kb(s.bytes).padStart(9)} ${kb(s.gzip_bytes).padStart(9)}`);
  }
  console.log(`precache: ${precache.count} files, ${kb(precache.size)}`);

  if (report.bundles.officer_js.gzip_bytes > OFFICER_JS_BUDGET_GZIP) {
    console.error(`officer app JS is ${kb(report.bundles.officer_js.gzip_bytes)} gzipped, over the ${kb(OFFICER_JS_BUDGET_GZIP)} budget`);
    process.exit(1);
  }
  if (report.bundles.console_js.gzip_bytes > CONSOLE_JS_BUDGET_GZIP) {
    console.error(`console JS is ${kb(report.bundles.console_js.gzip_bytes)} gzipped, over the ${kb(CONSOLE_JS_BUDGET_GZIP)} budget`);
    process.exit(1);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
