/**
 * The app icon: a shield with a star, drawn from one set of polygons into
 * an SVG and, with a small scanline rasteriser, into PNGs (via pngjs).
 * One geometry for every format, so they can never drift apart.
 *
 * Run alone to write src/icons/icon.svg: `node scripts/icons.mjs`.
 */
import { PNG } from 'pngjs';
import { writeFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

/** @typedef {[number, number][]} Polygon  points in a 1×1 box */
/** @typedef {{ colour: string, polygon: Polygon }} Shape */

export const COLOURS = { background: '#0b1220', rim: '#e8b931', shield: '#1f4fb8', star: '#ffffff' };

/** @param {[number, number]} a @param {[number, number]} c @param {[number, number]} b @param {number} steps */
function quadratic(a, c, b, steps = 16) {
  /** @type {Polygon} */
  const points = [];
  for (let i = 1; i <= steps; i++) {
    const t = i / steps;
    const u = 1 - t;
    points.push([u * u * a[0] + 2 * u * t * c[0] + t * t * b[0], u * u * a[1] + 2 * u * t * c[1] + t * t * b[1]]);
  }
  return points;
}

/** The shield outline, clockwise from the top centre. */
function shield() {
  /** @type {Polygon} */
  const right = [
    [0.5, 0.14],
    ...quadratic([0.5, 0.14], [0.62, 0.21], [0.78, 0.21]),
    [0.78, 0.48],
    ...quadratic([0.78, 0.48], [0.77, 0.75], [0.5, 0.87], 24),
  ];
  // Mirror the right half for the left, walking back up.
  const left = right.slice(1, -1).reverse().map(([x, y]) => /** @type {[number, number]} */ ([1 - x, y]));
  return [...right, ...left];
}

/** @param {Polygon} polygon @param {number} k @param {[number, number]} centre */
function scale(polygon, k, [cx, cy]) {
  return polygon.map(([x, y]) => /** @type {[number, number]} */ ([cx + (x - cx) * k, cy + (y - cy) * k]));
}

/** A five-pointed star. @param {number} cx @param {number} cy @param {number} r */
function star(cx, cy, r) {
  /** @type {Polygon} */
  const points = [];
  for (let i = 0; i < 10; i++) {
    const radius = i % 2 === 0 ? r : r * 0.4;
    const angle = -Math.PI / 2 + (i * Math.PI) / 5;
    points.push([cx + radius * Math.cos(angle), cy + radius * Math.sin(angle)]);
  }
  return points;
}

/** Rounded square, for the "any" icon's background. @param {number} radius */
function roundedSquare(radius) {
  /** @type {Polygon} */
  const points = [];
  const corners = [
    [1 - radius, radius, -Math.PI / 2],
    [1 - radius, 1 - radius, 0],
    [radius, 1 - radius, Math.PI / 2],
    [radius, radius, Math.PI],
  ];
  for (const [cx, cy, start] of corners) {
    for (let i = 0; i <= 8; i++) {
      const a = start + (i / 8) * (Math.PI / 2);
      points.push([cx + radius * Math.cos(a), cy + radius * Math.sin(a)]);
    }
  }
  return points;
}

/**
 * @param {'any' | 'maskable'} purpose maskable fills the square and keeps the mark inside the 80 % safe zone
 * @returns {Shape[]}
 */
export function iconShapes(purpose) {
  const outer = shield();
  const mark = [
    { colour: COLOURS.rim, polygon: outer },
    { colour: COLOURS.shield, polygon: scale(outer, 0.84, [0.5, 0.5]) },
    { colour: COLOURS.star, polygon: star(0.5, 0.47, 0.15) },
  ];
  if (purpose === 'maskable') {
    return [
      { colour: COLOURS.background, polygon: [[0, 0], [1, 0], [1, 1], [0, 1]] },
      ...mark.map((s) => ({ ...s, polygon: scale(s.polygon, 0.78, [0.5, 0.5]) })),
    ];
  }
  return [{ colour: COLOURS.background, polygon: roundedSquare(0.2) }, ...mark];
}

/** @param {Shape[]} shapes @param {number} size */
export function toSvg(shapes, size = 512) {
  const f = (/** @type {number} */ v) => +(v * size).toFixed(1);
  const paths = shapes.map(({ colour, polygon }) => `  <path fill="${colour}" d="M${polygon.map(([x, y]) => `${f(x)} ${f(y)}`).join('L')}Z"/>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${size} ${size}">\n${paths.join('\n')}\n</svg>\n`;
}

/** @param {string} hex */
function rgb(hex) {
  return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
}

/**
 * Rasterise with exact horizontal coverage and 4 sub-rows per pixel.
 * @param {Shape[]} shapes @param {number} size
 * @returns {Buffer} PNG bytes
 */
export function toPng(shapes, size) {
  const png = new PNG({ width: size, height: size, colorType: 6 });
  const rgba = new Float64Array(size * size * 4); // premultiplied
  const SUB = 4;
  const coverage = new Float64Array(size * size);
  for (const { colour, polygon } of shapes) {
    coverage.fill(0);
    const pts = polygon.map(([x, y]) => [x * size, y * size]);
    for (let row = 0; row < size * SUB; row++) {
      const y = (row + 0.5) / SUB;
      const xs = [];
      for (let i = 0; i < pts.length; i++) {
        const [x0, y0] = pts[i];
        const [x1, y1] = pts[(i + 1) % pts.length];
        if ((y0 <= y && y < y1) || (y1 <= y && y < y0)) xs.push(x0 + ((y - y0) / (y1 - y0)) * (x1 - x0));
      }
      xs.sort((a, b) => a - b);
      const line = Math.floor(row / SUB) * size;
      for (let k = 0; k + 1 < xs.length; k += 2) {
        const a = Math.max(0, xs[k]);
        const b = Math.min(size, xs[k + 1]);
        for (let px = Math.floor(a); px < Math.ceil(b); px++) {
          const covered = Math.min(b, px + 1) - Math.max(a, px);
          if (covered > 0) coverage[line + px] += covered / SUB;
        }
      }
    }
    const [r, g, b] = rgb(colour);
    for (let p = 0; p < size * size; p++) {
      const alpha = Math.min(1, coverage[p]);
      if (alpha === 0) continue;
      const o = p * 4;
      rgba[o] = r * alpha + rgba[o] * (1 - alpha);
      rgba[o + 1] = g * alpha + rgba[o + 1] * (1 - alpha);
      rgba[o + 2] = b * alpha + rgba[o + 2] * (1 - alpha);
      rgba[o + 3] = alpha + rgba[o + 3] * (1 - alpha);
    }
  }
  for (let p = 0; p < size * size; p++) {
    const o = p * 4;
    const alpha = rgba[o + 3];
    for (let c = 0; c < 3; c++) png.data[o + c] = alpha > 0 ? Math.round(rgba[o + c] / alpha) : 0;
    png.data[o + 3] = Math.round(alpha * 255);
  }
  return PNG.sync.write(png, { colorType: 6 });
}

/** Every icon file the build ships, by path under dist/. */
export function iconFiles() {
  const any = iconShapes('any');
  const maskable = iconShapes('maskable');
  return {
    'icons/icon.svg': toSvg(any),
    'icons/icon-192.png': toPng(any, 192),
    'icons/icon-512.png': toPng(any, 512),
    'icons/maskable-192.png': toPng(maskable, 192),
    'icons/maskable-512.png': toPng(maskable, 512),
    // iOS rounds the corners itself and shows transparency as black: give it the full square.
    'icons/apple-touch-icon.png': toPng(maskable, 180),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'icons');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'icon.svg'), toSvg(iconShapes('any')));
  console.log(`wrote ${join(out, 'icon.svg')}`);
}
