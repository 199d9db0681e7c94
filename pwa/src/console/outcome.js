/**
 * Dispatcher actions go through the shared sync client's outbox: stored in
 * IndexedDB before anything else (they survive a reload or a dropped link),
 * drawn at once, sent when there is a link. The server's answer for this
 * page's actions arrives on `entry.result`; refusals also stay in `notices`
 * (see Notices.jsx) until the dispatcher reads them, even after a reload.
 */
import { mutate } from '../shared/sync.js';
import { connectionState } from '../shared/sync-status.js';
import { toast } from './ui.js';
import { t } from './i18n.js';

/**
 * Record one action. Resolves with the outbox entry once it is stored (or null if it could not be);
 * `entry.result` resolves with `{seq, outcome, reason_code, reason, result}` when the server answers.
 * @param {string} name @param {Record<string, unknown>} args @param {number|null} [baseVersion] @param {string} [okText]
 */
export async function send(name, args, baseVersion = null, okText) {
  let entry;
  try {
    entry = await mutate(name, args, { base_version: baseVersion });
  } catch (err) {
    toast('error', `${t('c.send_failed')}: ${/** @type {Error} */ (err).message}`);
    return null;
  }
  if (connectionState.value !== 'live') toast('warn', t('c.queued'));
  entry.result.then((r) => {
    if (r.outcome === 'applied' || (r.outcome === 'merged' && !r.reason)) {
      if (okText) toast('ok', okText);
    }
    // rejected / conflict / merged with a remark: Notices shows the server's reason until read.
  });
  return entry;
}
