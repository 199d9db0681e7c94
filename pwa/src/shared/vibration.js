/** Long-short-long: noticeable in a pocket or on a dashboard, distinct from a phone call.
 * The service worker's notifications (app closed) and the open app use the same pattern. */
export const VIBRATION = [300, 100, 300, 100, 600];
