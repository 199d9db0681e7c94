/**
 * Calendar dates as 'YYYY-MM-DD' strings in Europe/Belgrade time (the
 * server's reporting zone), whatever zone the desk computer is set to.
 */
const TZ = 'Europe/Belgrade';
const DATE_FMT = new Intl.DateTimeFormat('en-CA', { timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit' });
const PARTS_FMT = new Intl.DateTimeFormat('en-GB', {
  timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
});

/** @param {number} ms @returns {string} */
export function dateOf(ms) {
  return DATE_FMT.format(ms);
}

export function today() {
  return dateOf(Date.now());
}

/** @param {string} date @param {number} days */
export function addDays(date, days) {
  const [y, m, d] = date.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

/** ISO weekday 1 = Monday … 7 = Sunday. @param {string} date */
export function isoWeekday(date) {
  const [y, m, d] = date.split('-').map(Number);
  return ((new Date(Date.UTC(y, m - 1, d)).getUTCDay() + 6) % 7) + 1;
}

/** @param {string} date */
export function mondayOf(date) {
  return addDays(date, 1 - isoWeekday(date));
}

/** Belgrade offset from UTC at an instant, in ms. @param {number} ms */
function offsetAt(ms) {
  const p = Object.fromEntries(PARTS_FMT.formatToParts(ms).map((x) => [x.type, x.value]));
  const asUtc = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/**
 * Epoch ms of a Belgrade wall-clock time.
 * @param {string} date YYYY-MM-DD @param {string} time HH:MM
 */
export function localMs(date, time = '00:00') {
  const [y, m, d] = date.split('-').map(Number);
  const [hh, mm] = time.split(':').map(Number);
  const guess = Date.UTC(y, m - 1, d, hh, mm);
  let ms = guess - offsetAt(guess);
  ms = guess - offsetAt(ms);
  return ms;
}

/** 'HH:MM' in Belgrade. @param {number} ms */
export function timeOf(ms) {
  const p = Object.fromEntries(PARTS_FMT.formatToParts(ms).map((x) => [x.type, x.value]));
  return `${p.hour}:${p.minute}`;
}
