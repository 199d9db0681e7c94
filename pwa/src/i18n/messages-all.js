/**
 * Every language, bundled: for the service worker (notification texts in the language the
 * page last used, with no page to fetch anything) and the desk console (a PC on a wired
 * network). Importing this fills MESSAGES at once.
 */
import { MESSAGES, addMessages } from './messages.js';
import srLatn from './sr-Latn.json';
import srCyrl from './sr-Cyrl.json';
import sl from './sl.json';

addMessages('sr-Latn', srLatn);
addMessages('sr-Cyrl', srCyrl);
addMessages('sl', sl);

export { MESSAGES };
