'use client';

import { useLiveStatus } from '../lib/live';

const TEXT = {
  live: 'Live: this page updates by itself',
  connecting: 'Connecting for live updates…',
  offline: 'Live updates paused; reconnecting…',
} as const;

/** Says whether the page is following live updates. */
export function LiveStatus() {
  const status = useLiveStatus();
  return (
    <p className={`live-status ${status}`} role="status" data-testid="live-status" data-status={status}>
      <span className="dot" aria-hidden="true" /> {TEXT[status]}
    </p>
  );
}
