import { t } from '../shared/prefs.js';
import { SCREENS, currentScreen } from './navigation.js';

/** Outline icons, 24×24, drawn with currentColor so they follow the theme. */
const ICONS = {
  home: 'M3 11 12 3l9 8M5 9.5V21h5v-6h4v6h5V9.5',
  assignment: 'M6 3h12v18l-6-4.5L6 21z',
  notes: 'M6 3h9l4 4v14H6zM9 11h7M9 15h7',
  settings: 'M4 7h16M4 17h16M9 4v6M15 14v6',
};

const LABEL_KEYS = { home: 'nav.home', assignment: 'nav.assignment', notes: 'nav.notes', settings: 'nav.settings' };

export function BottomNav() {
  return (
    <nav class="bottom-nav" aria-label={t('nav.label')}>
      {SCREENS.map((screen) => (
        <button
          key={screen}
          type="button"
          class="bottom-nav__item"
          aria-current={currentScreen.value === screen ? 'page' : undefined}
          onClick={() => (currentScreen.value = screen)}
        >
          <svg class="bottom-nav__icon" viewBox="0 0 24 24" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="2" stroke-linejoin="round" stroke-linecap="round">
            <path d={ICONS[screen]} />
          </svg>
          <span class="bottom-nav__label">{t(LABEL_KEYS[screen])}</span>
        </button>
      ))}
    </nav>
  );
}
