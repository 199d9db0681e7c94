/**
 * An honest "nothing here yet" panel.
 * @param {{title: string, hint?: string}} props
 */
export function EmptyState({ title, hint }) {
  return (
    <div class="empty">
      <p class="empty__title">{title}</p>
      {hint && <p class="empty__hint">{hint}</p>}
    </div>
  );
}
