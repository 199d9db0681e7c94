/** Which officer screen is showing. Kept in memory: a reload starts at Home, where the status buttons are. */
import { signal } from '@preact/signals';

export const SCREENS = /** @type {const} */ (['home', 'assignment', 'notes', 'settings']);
/** @typedef {typeof SCREENS[number]} Screen */

/** @type {import('@preact/signals').Signal<Screen>} */
export const currentScreen = signal('home');
