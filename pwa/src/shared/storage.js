/** localStorage that never throws (private mode, storage disabled, quota). */

/** @param {string} key @returns {string | null} */
export function readLocal(key) {
  try {
    return globalThis.localStorage?.getItem(key) ?? null;
  } catch {
    return null;
  }
}

/** @param {string} key @param {string | null} value */
export function writeLocal(key, value) {
  try {
    if (value === null) globalThis.localStorage?.removeItem(key);
    else globalThis.localStorage?.setItem(key, value);
  } catch {
    /* the setting just won't persist */
  }
}
