import { t, language } from '../prefs.js';
import { networkOnline, connectionState, pendingCount, lastSyncAt, minuteTick } from '../sync-status.js';
import { formatRelative } from '../format.js';

/** Network/server state, waiting changes and last sync, in one line. */
export function SyncIndicator() {
  const state = networkOnline.value ? connectionState.value : 'offline';
  const pending = pendingCount.value;
  const last = lastSyncAt.value;
  return (
    <div class="sync" data-state={state}>
      <span class="sync__dot" aria-hidden="true" />
      {/* Only the connection state is announced; the ticking "last sync" would be noise. */}
      <span class="sync__state" role="status">
        {t(`sync.${state}`)}
      </span>
      <span class={pending > 0 ? 'sync__pending sync__pending--waiting' : 'sync__pending'}>
        {pending > 0 ? t('sync.pending', { count: pending }) : t('sync.all_sent')}
      </span>
      <span class="sync__last">
        {last === null ? t('sync.never') : t('sync.last', { time: formatRelative(last, language.value, minuteTick.value) })}
      </span>
    </div>
  );
}
