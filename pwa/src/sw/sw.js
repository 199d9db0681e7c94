/// <reference lib="webworker" />
/**
 * Service worker entry: it only wires events to the modules that handle them.
 * It never calls skipWaiting by itself (see messages.js).
 */
import { nameCaches, precacheAppShell, routeApiToNetwork, routeNavigationsToShell, deleteOldCaches } from './caching.js';
import { handlePush } from './push.js';
import { handleNotificationClick } from './notification-click.js';
import { handleSync } from './background-sync.js';
import { handleMessage } from './messages.js';

nameCaches();
routeApiToNetwork();
precacheAppShell(self.__WB_MANIFEST);
routeNavigationsToShell();

self.addEventListener('activate', (event) => {
  // claim(): the first install controls the open page at once, so it works offline without a reload.
  event.waitUntil(deleteOldCaches().then(() => self.clients.claim()));
});
self.addEventListener('message', handleMessage);
self.addEventListener('push', handlePush);
self.addEventListener('notificationclick', handleNotificationClick);
self.addEventListener('sync', handleSync);
