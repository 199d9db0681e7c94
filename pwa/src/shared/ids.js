/**
 * UUIDv7 (RFC 9562): 48-bit Unix ms timestamp, then random bits.
 * Ids made on the device sort roughly by creation time, which keeps
 * IndexedDB and server indexes append-friendly.
 */

/**
 * @param {number} [ms] creation time (injectable for tests)
 * @param {(a: Uint8Array) => Uint8Array} [fillRandom]
 * @returns {string}
 */
export function uuidv7(ms = Date.now(), fillRandom = (a) => crypto.getRandomValues(a)) {
  if (!Number.isSafeInteger(ms) || ms < 0 || ms > 0xffffffffffff) {
    throw new RangeError(`uuidv7 timestamp out of range: ${ms}`);
  }
  const bytes = fillRandom(new Uint8Array(16));
  // Division rather than bit shifts: JS bitwise operators truncate to 32 bits.
  let t = ms;
  for (let i = 5; i >= 0; i--) {
    bytes[i] = t % 256;
    t = Math.floor(t / 256);
  }
  bytes[6] = 0x70 | (bytes[6] & 0x0f); // version 7
  bytes[8] = 0x80 | (bytes[8] & 0x3f); // variant 10
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const UUIDV7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** @param {unknown} value */
export function isUuidv7(value) {
  return typeof value === 'string' && UUIDV7.test(value);
}

/** The creation time (ms) encoded in a UUIDv7. @param {string} id */
export function uuidv7Time(id) {
  if (!isUuidv7(id)) throw new TypeError(`not a UUIDv7: ${id}`);
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}
