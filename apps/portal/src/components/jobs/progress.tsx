/** A labelled progress bar: done of total. */
export function Progress({ done, total, label }: { done: number; total: number; label: string }) {
  const pct = total > 0 ? Math.min(100, Math.round((done / total) * 100)) : 0;
  return (
    <div className="progress-wrap">
      <progress max={Math.max(total, 1)} value={done} aria-label={label} />
      <span className="progress-text">
        {done}/{total} ({pct} %)
      </span>
    </div>
  );
}

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge status-${status}`}>{status}</span>;
}
