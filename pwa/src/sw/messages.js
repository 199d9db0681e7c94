/** Messages from pages. The only one: the user accepted an update. */

/** @param {ExtendableMessageEvent} event */
export function handleMessage(event) {
  if (event.data?.type === 'SKIP_WAITING') {
    // Only ever on the user's word (the update prompt): never on our own.
    self.skipWaiting();
  }
}
