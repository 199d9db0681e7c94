/** Dispatcher console entry: a separate bundle so the officer app stays small. */
import '../styles/console.css';
import './console.css';
import { render } from 'preact';
import { configureDb } from '../shared/db.js';
import { configureSession, restoreSession, addWipeHook } from '../shared/session.js';
import { disablePush } from '../shared/push.js';
import { applyDocumentPrefs } from '../shared/prefs.js';
import { registerServiceWorker } from '../shared/sw-client.js';
import { startSyncStatus } from '../shared/sync-status.js';
import { App } from './App.jsx';

// Its own IndexedDB (replica, outbox, device, session): never mixed with the officer app in the
// same browser. The replica is stored too (a desk snapshot is open incidents and the last day's,
// ~60 KB with the demo data), so a reload without network still shows the last known board.
configureDb('patrol-console');
configureSession({ persist: true });
restoreSession();
// Signing out (or a revoked device) also stops this computer's alert notifications.
addWipeHook(() => disablePush());

applyDocumentPrefs('app.console_title');
startSyncStatus();
registerServiceWorker();
render(<App />, /** @type {HTMLElement} */ (document.getElementById('app')));
