/**
 * Unit labels that would cover each other on the map (two cars at one station, a
 * crew and its second car at a scene) are stacked instead, so each stays readable
 * and clickable. Pure: screen points in, pixel offsets out.
 */

/**
 * @param {Array<{id: string, x: number, y: number}>} points marker anchors in layer pixels
 * @param {{w: number, h: number, tries?: number}} size label box; `tries` steps each way
 * @returns {Map<string, number>} vertical offset (px) for each label that had to move
 */
export function declutter(points, { w, h, tries = 6 }) {
  // Top to bottom, then left to right, then by id: the same map always gives the same layout.
  const order = [...points].sort((a, b) => a.y - b.y || a.x - b.x || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  /** @type {Array<{x: number, y: number}>} */
  const placed = [];
  /** @type {Map<string, number>} */
  const moved = new Map();
  const clash = (/** @type {number} */ x, /** @type {number} */ y) => placed.some((p) => Math.abs(p.x - x) < w && Math.abs(p.y - y) < h);
  for (const p of order) {
    let dy = 0;
    for (let i = 1; clash(p.x, p.y + dy) && i <= 2 * tries; i++) dy = (i % 2 ? 1 : -1) * Math.ceil(i / 2) * h;
    if (clash(p.x, p.y + dy)) dy = 0; // a crowd: leave it where it is rather than far away
    placed.push({ x: p.x, y: p.y + dy });
    if (dy) moved.set(p.id, dy);
  }
  return moved;
}
