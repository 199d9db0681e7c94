/** Officer app entry: preferences, service worker, session + sync, position, then render. */
import '../styles/officer.css';
import './officer.css';
import { render } from 'preact';
import { effect } from '@preact/signals';
import { applyDocumentPrefs, languageReady } from '../shared/prefs.js';
import { registerServiceWorker, flushRequests, acknowledgeRequest, requestBackgroundSync } from '../shared/sw-client.js';
import { startSyncStatus, pendingCount, connectionState } from '../shared/sync-status.js';
import { restoreSession, session, addWipeHook } from '../shared/session.js';
import { flush, mutate, entity } from '../shared/sync.js';
import { startPositionSharing } from './lib/geo.js';
import { startAttention } from './lib/attention.js';
import { loadIncidentTypes, focusAssignmentId } from './lib/state.js';
import { disablePush } from '../shared/push.js';
import { currentScreen } from './navigation.js';
import { App } from './App.jsx';

applyDocumentPrefs('app.name');
startSyncStatus();
registerServiceWorker();

/** /?assignment=<id> (push link) opens that assignment; /?alert=<id> opens Home. */
function openFromUrl() {
  const params = new URLSearchParams(location.search);
  const asg = params.get('assignment');
  if (asg) {
    focusAssignmentId.value = asg;
    currentScreen.value = 'assignment';
  } else if (params.has('alert')) currentScreen.value = 'home';
}
openFromUrl();

// "Acknowledge" tapped on a notification.
effect(() => {
  const url = acknowledgeRequest.value;
  if (!url || !session.value) return;
  acknowledgeRequest.value = null;
  const id = new URL(url, location.origin).searchParams.get('assignment');
  if (!id) return;
  focusAssignmentId.value = id;
  currentScreen.value = 'assignment';
  const a = entity('assignment', id);
  if (!a || a.state === 'pending') mutate('assignment.acknowledge', { assignment_id: id }).catch(() => {});
});

// Background Sync woke the worker: send now.
effect(() => {
  if (flushRequests.value > 0) flush();
});

// Unsent changes and no link: ask the browser to wake us when the network returns.
effect(() => {
  if (pendingCount.value > 0 && connectionState.value !== 'live') requestBackgroundSync();
});

effect(() => {
  if (session.value) loadIncidentTypes();
});

addWipeHook(() => disablePush());
startPositionSharing();
startAttention();
restoreSession().catch(() => {});
// First paint in the officer's language (its file comes from the precache in milliseconds;
// at worst English for a moment on a very slow first load).
languageReady().then(() => render(<App />, /** @type {HTMLElement} */ (document.getElementById('app'))));
