import { t, languageSetting, setLanguage, theme, setTheme } from '../prefs.js';
import { LANGUAGES, languageName } from '../../i18n/language.js';

/** Language picker: device language or one of ours, each named in itself. */
export function LanguageSelect({ id = 'language' }) {
  return (
    <div class="field">
      <label class="field__label" for={id}>
        {t('settings.language')}
      </label>
      <select id={id} class="field__control" value={languageSetting.value} onChange={(e) => setLanguage(e.currentTarget.value)}>
        <option value="auto">{t('settings.language_auto')}</option>
        {LANGUAGES.map((lang) => (
          <option key={lang} value={lang} lang={lang}>
            {languageName(lang)}
          </option>
        ))}
      </select>
    </div>
  );
}

/** Dark for night shifts, high-contrast light for sunlight. */
export function ThemeChoice() {
  return (
    <fieldset class="field choice">
      <legend class="field__label">{t('settings.theme')}</legend>
      {/** @type {const} */ (['dark', 'light']).map((value) => (
        <label key={value} class="choice__option">
          <input type="radio" name="theme" value={value} checked={theme.value === value} onChange={() => setTheme(value)} />
          <span>{t(value === 'dark' ? 'settings.theme_dark' : 'settings.theme_light')}</span>
        </label>
      ))}
    </fieldset>
  );
}
