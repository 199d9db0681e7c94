import { useEffect, useState } from 'preact/hooks';
import { api } from './api.js';

/**
 * Fetch a JSON report whenever its URL changes; stale answers are dropped.
 * @param {string | null} url
 * @returns {{data: any, error: any, loading: boolean, reload: () => void}}
 */
export function useReport(url) {
  const [state, setState] = useState({ data: /** @type {any} */ (null), error: /** @type {any} */ (null), loading: false });
  const [nonce, setNonce] = useState(0);
  useEffect(() => {
    if (!url) return undefined;
    let live = true;
    setState((s) => ({ ...s, loading: true, error: null }));
    api(url).then(
      (data) => live && setState({ data, error: null, loading: false }),
      (error) => live && setState({ data: null, error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [url, nonce]);
  return { ...state, reload: () => setNonce((n) => n + 1) };
}
