/**
 * Hybrid logical clock (Kulkarni et al., "Logical Physical Clocks", 2014).
 *
 * The encoding is shared with the server and must not change:
 *   <physical ms, 12 lowercase hex digits>-<logical counter, 4 lowercase hex digits>-<node id>
 * Both numeric fields are fixed width, so comparing two encoded strings
 * orders them by (physical, logical, node id) — the server sorts the strings
 * directly and so may we.
 */

/** @typedef {{ physical: number, logical: number, node: string }} Hlc */

const MAX_PHYSICAL = 0xffffffffffff; // 12 hex digits (year 10889)
const MAX_LOGICAL = 0xffff; // 4 hex digits
const MAX_NODE_LENGTH = 64; // the server's limit too
const PATTERN = /^([0-9a-f]{12})-([0-9a-f]{4})-(\S{1,64})$/;

/**
 * @param {string} text
 * @returns {Hlc}
 */
export function parseHlc(text) {
  const match = typeof text === 'string' ? PATTERN.exec(text) : null;
  if (!match) throw new TypeError(`not an HLC timestamp: ${JSON.stringify(text)}`);
  return {
    physical: parseInt(match[1], 16),
    logical: parseInt(match[2], 16),
    node: match[3],
  };
}

/**
 * @param {Hlc} hlc
 * @returns {string}
 */
export function formatHlc({ physical, logical, node }) {
  if (!Number.isSafeInteger(physical) || physical < 0 || physical > MAX_PHYSICAL) {
    throw new RangeError(`HLC physical time out of range: ${physical}`);
  }
  if (!Number.isInteger(logical) || logical < 0 || logical > MAX_LOGICAL) {
    throw new RangeError(`HLC logical counter out of range: ${logical}`);
  }
  if (typeof node !== 'string' || !/^\S+$/.test(node) || node.length > MAX_NODE_LENGTH) {
    throw new TypeError(`HLC node id must be 1–64 characters without spaces: ${JSON.stringify(node)}`);
  }
  return `${physical.toString(16).padStart(12, '0')}-${logical.toString(16).padStart(4, '0')}-${node}`;
}

/**
 * Order of two encoded timestamps: negative, zero or positive.
 * Validates both so a malformed value cannot sort silently.
 * @param {string} a
 * @param {string} b
 */
export function compareHlc(a, b) {
  parseHlc(a);
  parseHlc(b);
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A remote timestamp too far ahead of our wall clock (see maxDriftMs). */
export class HlcDriftError extends RangeError {}

/**
 * A clock for one node (a device or a server instance).
 *
 * @param {string} nodeId
 * @param {() => number} [now] wall clock in ms since the epoch (injectable for tests)
 * @param {{maxDriftMs?: number | null}} [options] refuse remote stamps further ahead
 *   than this, as the server's HLC(max_drift_ms) does; off by default
 */
export function createClock(nodeId, now = Date.now, { maxDriftMs = null } = {}) {
  formatHlc({ physical: 0, logical: 0, node: nodeId }); // validate the id once, up front
  let last = 0;
  let counter = 0;
  let issued = false;

  /** @param {number} logical */
  function stamp(logical) {
    if (logical > MAX_LOGICAL) {
      // Wrapping would reorder events; refusing is the only safe answer.
      throw new RangeError('HLC logical counter overflow (more than 65535 events in one millisecond, or a remote clock far ahead)');
    }
    counter = logical;
    issued = true;
    return formatHlc({ physical: last, logical: counter, node: nodeId });
  }

  return {
    nodeId,

    /** A local or send event. */
    now() {
      const physical = Math.floor(now());
      if (physical > last) {
        last = physical;
        return stamp(0);
      }
      return stamp(counter + 1);
    },

    /**
     * A receive event: merge a timestamp seen on a message from another node.
     * @param {string} remote
     */
    update(remote) {
      const r = parseHlc(remote);
      const physical = Math.floor(now());
      if (maxDriftMs !== null && r.physical - physical > maxDriftMs) {
        throw new HlcDriftError(`remote clock ${r.physical - physical} ms ahead (limit ${maxDriftMs})`);
      }
      const previous = last;
      const next = Math.max(previous, r.physical, physical);
      let logical;
      if (next === previous && next === r.physical) logical = Math.max(counter, r.logical) + 1;
      else if (next === previous) logical = counter + 1;
      else if (next === r.physical) logical = r.logical + 1;
      else logical = 0;
      if (logical > MAX_LOGICAL) {
        throw new RangeError('HLC logical counter overflow on receive');
      }
      last = next;
      return stamp(logical);
    },

    /** The last issued timestamp, or null before the first event. */
    peek() {
      return !issued ? null : formatHlc({ physical: last, logical: counter, node: nodeId });
    },
  };
}
