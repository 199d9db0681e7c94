/**
 * The life of one outbox entry, as an explicit state machine.
 *
 *   queued ──send──▶ sending ──server outcome──▶ confirmed | rejected | conflict
 *     ▲                 │
 *     └──connection lost┘
 *
 * Terminal states are kept until the server's confirmation cursor passes
 * them (confirmed) or the officer has read the notice (rejected, conflict).
 */

/** @typedef {'queued' | 'sending' | 'confirmed' | 'rejected' | 'conflict'} OutboxState */

export const OUTBOX_STATES = /** @type {const} */ (['queued', 'sending', 'confirmed', 'rejected', 'conflict']);

/** @type {Record<OutboxState, readonly OutboxState[]>} */
const NEXT = {
  queued: ['sending'],
  sending: ['queued', 'confirmed', 'rejected', 'conflict'],
  confirmed: [],
  rejected: [],
  conflict: [],
};

/** States the officer still has to see or that still have to reach the server. */
export const PENDING_STATES = /** @type {const} */ (['queued', 'sending']);

/** @param {string} from @param {string} to */
export function canTransition(from, to) {
  return Object.hasOwn(NEXT, from) && NEXT[/** @type {OutboxState} */ (from)].includes(/** @type {OutboxState} */ (to));
}

/**
 * Check a transition; throw on an illegal one (a bug, never a user error).
 * @param {string} from @param {string} to
 * @returns {OutboxState} the new state
 */
export function transition(from, to) {
  if (!canTransition(from, to)) {
    throw new Error(`illegal outbox transition ${from} → ${to}`);
  }
  return /** @type {OutboxState} */ (to);
}

/** @param {string} state */
export function isTerminal(state) {
  return Object.hasOwn(NEXT, state) && NEXT[/** @type {OutboxState} */ (state)].length === 0;
}
