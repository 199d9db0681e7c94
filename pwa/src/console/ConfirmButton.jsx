import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import { t } from './i18n.js';

const GIVE_UP_MS = 8000;

/**
 * A button for an action that needs a second thought (cancel an assignment, sign out with
 * unsent actions): the first click asks in place, "Yes" does it, "No", Escape or eight
 * seconds of nothing put the button back. In place rather than `confirm()`, because a
 * native dialog stops the page: an emergency alert arriving meanwhile would neither show
 * nor sound until the dialog closed.
 * @param {{label: string, question: string, onConfirm: () => void, ask?: boolean, class?: string, testid?: string}} props
 */
export function ConfirmButton({ label, question, onConfirm, ask = true, class: cls = 'btn btn--small btn--danger', testid }) {
  const [asking, setAsking] = useState(false);
  const yes = useRef(/** @type {HTMLButtonElement | null} */ (null));
  // A layout effect: the question must own Escape from the moment it is on screen.
  useLayoutEffect(() => {
    if (!asking) return undefined;
    yes.current?.focus();
    const timer = setTimeout(() => setAsking(false), GIVE_UP_MS);
    // Escape takes the question back wherever the focus is, before the console's own
    // Escape (close the panel) sees it: a capture listener on window runs first.
    /** @param {KeyboardEvent} e */
    const onKey = (e) => {
      if (e.key !== 'Escape') return;
      e.stopPropagation();
      setAsking(false);
    };
    addEventListener('keydown', onKey, true);
    return () => {
      clearTimeout(timer);
      removeEventListener('keydown', onKey, true);
    };
  }, [asking]);

  if (!asking) {
    return (
      <button type="button" class={cls} data-testid={testid} onClick={() => (ask ? setAsking(true) : onConfirm())}>
        {label}
      </button>
    );
  }
  return (
    <span
      class="confirm"
      role="group"
      aria-label={question}
      data-testid={testid ? `${testid}-confirm` : undefined}
    >
      <span class="confirm__question" role="alert">
        {question}
      </span>
      <button
        ref={yes}
        type="button"
        class="btn btn--small btn--danger"
        onClick={() => {
          setAsking(false);
          onConfirm();
        }}
      >
        {t('c.confirm_yes')}
      </button>
      <button type="button" class="btn btn--small" onClick={() => setAsking(false)}>
        {t('c.confirm_no')}
      </button>
    </span>
  );
}
