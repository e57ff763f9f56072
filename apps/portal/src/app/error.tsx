'use client';

export default function ErrorPage({
  error,
  reset,
}: {
  error: Error & { digest?: string };
  reset: () => void;
}) {
  return (
    <div className="alert error" role="alert">
      <h1>Something went wrong</h1>
      <p>
        The portal could not show this page. If it keeps happening, check that the portal's database is
        reachable (<a href="/api/ready">/api/ready</a>) and look at the portal's log
        {error.digest ? (
          <>
            {' '}
            for error <code>{error.digest}</code>
          </>
        ) : null}
        .
      </p>
      <button type="button" onClick={reset}>
        Try again
      </button>
    </div>
  );
}
