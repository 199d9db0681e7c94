import { useEffect, useRef } from 'preact/hooks';
import { effect } from '@preact/signals';
import { t } from './i18n.js';
import { session, sessionLoaded, signOut } from '../shared/session.js';
import { loadReference, resetStore, startClock, openConflicts, refreshUnits, db } from './store.js';
import { panel, search, conflictsOpen, toasts, focusPoint } from './ui.js';
import { unlockAudio } from './sound.js';
import { pendingCount } from '../shared/sync-status.js';
import { SyncIndicator } from '../shared/ui/SyncIndicator.jsx';
import { UpdatePrompt } from '../shared/ui/UpdatePrompt.jsx';
import { LanguageSelect, ThemeChoice } from '../shared/ui/PrefControls.jsx';
import { Login } from './Login.jsx';
import { UnitBoard } from './UnitBoard.jsx';
import { MapPanel } from './MapPanel.jsx';
import { IncidentPanel } from './IncidentPanel.jsx';
import { AlertBanner } from './AlertBanner.jsx';
import { ConflictsDialog } from './Conflicts.jsx';
import { AckWatch } from './AckWatch.jsx';
import { Notices } from './Notices.jsx';
import { ConfirmButton } from './ConfirmButton.jsx';
import { PushChoice } from './PushChoice.jsx';

// The shared session starts and stops the sync; the console loads its REST reference data per session.
let running = /** @type {string | null} */ (null);
let crewTimer = /** @type {any} */ (0);
effect(() => {
  const me = session.value;
  const key = me ? `${me.user_id}/${me.device_id}` : null;
  if (key === running) return;
  if (running) {
    clearInterval(crewTimer);
    resetStore();
  }
  running = key;
  if (!me) return;
  startClock();
  loadReference().catch(() => {});
  crewTimer = setInterval(refreshUnits, 5 * 60_000); // crews change with shifts
});

const DESK_ROLES = ['dispatcher', 'commander', 'admin'];

/** Dispatcher console: unit board | map | incidents. */
export function App() {
  const me = session.value;
  if (!sessionLoaded.value) return null;
  if (!me || !DESK_ROLES.includes(me.role)) return <Login />;
  return <Console />;
}

function Console() {
  const me = /** @type {NonNullable<typeof session.value>} */ (session.value);
  const searchRef = useRef(/** @type {HTMLInputElement | null} */ (null));

  // Opened from an emergency notification (/console?alert=<id>): show where it is once it is here.
  useEffect(() => {
    const id = new URLSearchParams(location.search).get('alert');
    if (!id) return undefined;
    const stop = effect(() => {
      const a = db.alert.get(id);
      if (a?.lat == null) return;
      focusPoint.value = { lat: a.lat, lon: a.lon, at: Date.now() };
      history.replaceState(null, '', location.pathname);
      queueMicrotask(() => stop());
    });
    return stop;
  }, []);

  useEffect(() => {
    /** @param {KeyboardEvent} e */
    function onKey(e) {
      unlockAudio();
      const el = /** @type {HTMLElement} */ (e.target);
      const typing = el.closest('input, textarea, select, [contenteditable]') !== null;
      if (e.key === 'Escape') {
        if (typing && el === searchRef.current && search.value) {
          search.value = '';
          return;
        }
        if (conflictsOpen.value) return; // the dialog closes itself
        if (panel.value.view !== 'list') {
          panel.value = { view: 'list' };
          e.preventDefault();
        } else if (typing) el.blur();
        return;
      }
      if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === 'n') {
        e.preventDefault();
        panel.value = { view: 'form', id: null };
      } else if (e.key === '/') {
        e.preventDefault();
        searchRef.current?.focus();
      } else if (e.key === 'c') {
        e.preventDefault();
        conflictsOpen.value = true;
      }
    }
    const onPointer = () => unlockAudio();
    addEventListener('keydown', onKey);
    addEventListener('pointerdown', onPointer);
    return () => {
      removeEventListener('keydown', onKey);
      removeEventListener('pointerdown', onPointer);
    };
  }, []);

  const nConflicts = openConflicts.value.length;
  return (
    <div class="console">
      <header class="console__header">
        <h1 class="console__title">{t('app.console_title')}</h1>
        <input
          ref={searchRef}
          class="console__search"
          type="search"
          placeholder={t('c.search_placeholder')}
          aria-label={t('c.search')}
          aria-keyshortcuts="/"
          value={search.value}
          onInput={(e) => (search.value = e.currentTarget.value)}
        />
        <button class="btn btn--primary" type="button" aria-keyshortcuts="n" onClick={() => (panel.value = { view: 'form', id: null })}>
          {t('c.new_incident')} <kbd>N</kbd>
        </button>
        <button
          class={nConflicts ? 'btn btn--warn' : 'btn'}
          type="button"
          data-testid="conflicts-button"
          aria-keyshortcuts="c"
          onClick={() => (conflictsOpen.value = true)}
        >
          {t('c.conflicts')} <span class="count">{nConflicts}</span>
        </button>
        <SyncIndicator />
        <span class="console__user">{me.display_name}</span>
        {/* Signing out wipes this browser's console data, the outbox included: ask when it holds unsent actions. */}
        <ConfirmButton
          class="btn btn--quiet"
          label={t('c.sign_out')}
          ask={pendingCount.value > 0}
          question={t('c.sign_out_unsent', { count: pendingCount.value })}
          onConfirm={() => signOut()}
        />
        {/* Shifts, availability and response times; signed in there with this session. */}
        <a class="btn btn--quiet" href="/analysis" data-testid="to-analysis">
          {t('c.analysis')}
        </a>
        <details class="console__prefs">
          <summary>{t('settings.title')}</summary>
          <div class="console__prefs-panel">
            <LanguageSelect id="console-language" />
            <ThemeChoice />
            <PushChoice />
            <p class="hint">{t('c.shortcuts_hint')}</p>
          </div>
        </details>
      </header>
      <UpdatePrompt />
      <AlertBanner />
      <AckWatch />
      <Notices />
      <UnitBoard />
      <MapPanel />
      <IncidentPanel />
      {conflictsOpen.value && <ConflictsDialog />}
      <div class="toasts" aria-live="polite">
        {toasts.value.map((x) => (
          <p key={x.id} class={`toast toast--${x.kind}`} role={x.kind === 'error' ? 'alert' : undefined}>
            {x.text}
          </p>
        ))}
      </div>
    </div>
  );
}
