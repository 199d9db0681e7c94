/**
 * Which value of a conflict is in force: read from the stored state, never from the
 * conflict's sides. A conflict row's "server" side is the value that was there when the
 * concurrent edit arrived, its "client" side the edit; either may have won (sync/merge.py
 * `merge_fields`: the later HLC stamp wins, and a conflict is recorded whichever side won).
 */

/** Equal as stored (values arrive parsed from JSON). @param {unknown} a @param {unknown} b */
function same(a, b) {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/**
 * @param {{field: string, server_value?: unknown, client_value?: unknown, server_hlc?: string | null, client_hlc?: string | null, personal?: number | boolean}} c
 * @param {Record<string, unknown> | null | undefined} entity the conflicted entity as this screen holds it, if it does
 * @returns {{current: 'server' | 'client' | 'neither', value?: unknown}}
 *   'neither': the field was changed again since; `value` is what it holds now
 */
export function inForce(c, entity) {
  // The entity's current value is the truth when the screen holds it (personal fields are
  // never in the replica, and their conflict values are not in the change stream).
  if (entity && !c.personal && Object.prototype.hasOwnProperty.call(entity, c.field)) {
    const now = entity[c.field];
    const isServer = same(now, c.server_value);
    const isClient = same(now, c.client_value);
    if (isClient && !isServer) return { current: 'client' };
    if (isServer && !isClient) return { current: 'server' };
    if (!isServer && !isClient) return { current: 'neither', value: now };
  }
  // Otherwise the stored stamps say who won: the merge rule compares the HLCs as strings
  // (fixed-width hex, so string order is time order).
  return { current: String(c.client_hlc ?? '') > String(c.server_hlc ?? '') ? 'client' : 'server' };
}
