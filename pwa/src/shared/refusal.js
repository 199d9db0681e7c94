/**
 * Text limits and refused mutations, worded in the person's language.
 *
 * The limits are the server's (`vocabulary.js`, generated from sync/mutations.py). A refusal
 * is described from the outcome's `reason_code` and `result.field` (and the text that was
 * sent), never from the server's English `reason`, which is only the last resort.
 */
import { LIMITS } from './vocabulary.js';
import { getDb } from './db.js';

/** Characters as the server counts them (Unicode code points). @param {string} s */
export function serverLength(s) {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** The longest string `name` accepts for argument `field`, or null. @param {string} name @param {string} field */
export function limitOf(name, field) {
  return /** @type {Record<string, Record<string, number>>} */ (LIMITS)[name]?.[field] ?? null;
}

/** Show a field's counter once it holds 90 % of its limit. @param {number} length @param {number} max */
export function nearLimit(length, max) {
  return length >= Math.floor(max * 0.9);
}

/** 'args.description' → 'description'. @param {unknown} path */
export function argField(path) {
  if (typeof path !== 'string') return null;
  const m = /^args\.(\w+)/.exec(path);
  return m ? m[1] : null;
}

/**
 * What the server refused, in terms a screen can word.
 * An answer read back from the outbox (after a reload) carries no `result`: then the
 * argument over its limit is found from the text that was sent.
 * @param {string} name mutation name
 * @param {{reason_code?: string | null, result?: any}} outcome
 * @param {Record<string, unknown> | null | undefined} args what was sent
 * @returns {{code: string, field: string | null, length?: number, max?: number, params?: Record<string, unknown>}}
 */
export function refusal(name, outcome, args) {
  const params = outcome.result ?? /** @type {any} */ (outcome).reason_params ?? null;
  const field = argField(params?.field);
  const code = outcome.reason_code ?? 'unknown';
  if (code === 'invalid' && args) {
    const candidates = field ? [field] : Object.keys(/** @type {any} */ (LIMITS)[name] ?? {});
    for (const f of candidates) {
      const max = limitOf(name, f);
      const v = args[f];
      if (max !== null && typeof v === 'string' && serverLength(v) > max) {
        return { code: 'too_long', field: f, length: serverLength(v), max };
      }
    }
  }
  // Parameters beyond the field (limits, times) travel along for the wording.
  const extra = params && typeof params === 'object' && Object.keys(params).some((k) => k !== 'field');
  return extra ? { code, field, params } : { code, field };
}

/**
 * One sentence for a refusal. `label` names the field as the screen does.
 * @param {(key: string, params?: Record<string, unknown>) => string} t
 * @param {{code: string, field: string | null, length?: number, max?: number, params?: Record<string, unknown>}} r
 * @param {string} label
 * @param {string | null} [fallback] the server's reason, for codes this module does not word
 */
export function refusalText(t, r, label, fallback = null) {
  if (r.code === 'too_long') return t('limit.too_long', { field: label, length: r.length, count: r.max });
  if (r.code === 'invalid' && r.field) return t('limit.invalid', { field: label });
  // Any other code the apps know (`refusal.<code>` in the messages), with the outcome's parameters.
  const key = `refusal.${r.code}`;
  const text = t(key, { ...(r.params ?? {}), field: label });
  if (text !== key) return text;
  return fallback ?? t('limit.refused');
}

/**
 * The counter shown near a field's limit: "19,850 / 20,000" in the person's number format.
 * @param {(key: string, params?: Record<string, unknown>) => string} t @param {number} length @param {number} max
 */
export function counterText(t, length, max) {
  return t('limit.count', { length, max });
}

/**
 * The mutation an outbox entry holds (what was sent, to give it back), or null.
 * @param {number} seq
 * @returns {Promise<import('./db.js').Mutation | null>}
 */
export async function outboxMutation(seq) {
  const db = await getDb();
  return (await db.get('outbox', seq))?.mutation ?? null;
}

/**
 * An outbox entry's state now: 'queued' | 'sending' | 'confirmed' | 'rejected' | 'conflict',
 * or null when it left the outbox (confirmed and settled, or read and dismissed).
 * @param {number} seq
 */
export async function outboxState(seq) {
  const db = await getDb();
  const e = await db.get('outbox', seq);
  return e ? { state: /** @type {string} */ (e.state), reason_code: e.reason_code ?? null, notice: e.notice ?? null, mutation: e.mutation } : null;
}
