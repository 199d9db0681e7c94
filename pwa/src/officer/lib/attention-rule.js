/**
 * Which assignments are news: pending, for this unit, made in the last few minutes, and not
 * announced before on this phone (a reload or a re-sync must not buzz again). Pure.
 */
export const FRESH_MS = 10 * 60_000;
export const REMEMBER = 50;

/**
 * @param {Array<{id: string, state: string, assigned_at?: number | null}>} active the unit's open assignments
 * @param {string[]} announced ids announced before, oldest first
 * @param {number} now server time (ms)
 * @returns {{news: string[], announced: string[]}}
 */
export function newsAmong(active, announced, now) {
  const known = new Set(announced);
  const news = active
    .filter((a) => a.state === 'pending' && !known.has(a.id) && a.assigned_at != null && now - a.assigned_at < FRESH_MS)
    .map((a) => a.id);
  return { news, announced: news.length ? [...announced, ...news].slice(-REMEMBER) : announced };
}
