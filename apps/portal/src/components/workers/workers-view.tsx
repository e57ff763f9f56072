'use client';

import Link from 'next/link';
import type { ApiError } from '../../lib/api';
import { shortDcc } from '../../lib/dcc';
import { useLive } from '../../lib/live';
import { ErrorNotice } from '../error-notice';

export interface WorkersData {
  workers: {
    worker: string;
    busy: number;
    connected: boolean | null;
    cores: number | null;
    lastSeen: string | null;
    slices: { job: string | null; sliceNumber: number | null }[];
  }[];
  earnings: { address: string; label: string; earned: string; payments: number }[];
}

/** Connected workers (idle or computing: busy sandboxes and slices) and what the user's accounts earned. */
export function WorkersView({
  initial,
  initialError,
  schedulerUrl,
}: {
  initial: WorkersData;
  initialError: ApiError | null;
  schedulerUrl: string;
}) {
  const { data, error } = useLive<WorkersData>('workers', initial, initialError);
  return (
    <>
      {error ? <ErrorNotice error={error} what="the workers" /> : null}
      <section className="card" aria-labelledby="workers-heading">
        <h2 id="workers-heading">Workers</h2>
        {data.workers.length === 0 ? (
          <div className="empty" data-testid="workers-empty">
            <strong>No worker is connected</strong>
            <p>
              Workers show here once they ask the scheduler for work. Start one that pays into one of your
              bank accounts, or use the <Link href="/worker">browser worker</Link>:
            </p>
            <pre>{`npx dcp-worker --dcp-scheduler ${schedulerUrl} --paymentAddress <your bank account>`}</pre>
          </div>
        ) : (
          <div className="table-scroll">
            <table>
              <caption className="visually-hidden">Workers and their current slices</caption>
              <thead>
                <tr>
                  <th scope="col">Worker</th>
                  <th scope="col">Status</th>
                  <th scope="col">Busy sandboxes</th>
                  <th scope="col">Current slices</th>
                </tr>
              </thead>
              <tbody>
                {data.workers.map((w) => {
                  const mine = w.slices.filter((s) => s.job !== null);
                  const others = w.slices.length - mine.length;
                  return (
                    <tr key={w.worker} data-testid="worker-row">
                      <td>
                        <span className="mono">{w.worker}</span>
                      </td>
                      <td data-testid="worker-status">
                        {w.connected === false ? 'gone' : w.busy > 0 ? 'computing' : 'idle'}
                        {w.cores ? <span className="hint"> · {w.cores} core(s)</span> : null}
                        {w.lastSeen ? (
                          <span className="hint"> · seen {new Date(w.lastSeen).toLocaleTimeString()}</span>
                        ) : null}
                      </td>
                      <td>{w.busy}</td>
                      <td>
                        {mine.map((s) => (
                          <span key={`${s.job}-${s.sliceNumber}`} className="slice-chip">
                            <Link href={`/jobs/${encodeURIComponent(s.job ?? '')}`}>
                              {(s.job ?? '').slice(0, 10)}…
                            </Link>{' '}
                            #{s.sliceNumber}
                          </span>
                        ))}
                        {others ? (
                          <span className="hint"> {others} slice(s) of other users’ jobs</span>
                        ) : null}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <section className="card" aria-labelledby="earnings-heading">
        <h2 id="earnings-heading">Your earnings</h2>
        {data.earnings.length === 0 ? (
          <p className="hint" data-testid="earnings-empty">
            Create a bank-account keystore on the <Link href="/keystores">Keystores</Link> page and give its
            address to your workers as <code>--paymentAddress</code>; what they earn shows here.
          </p>
        ) : (
          <table>
            <caption className="visually-hidden">Slice payments received per account</caption>
            <thead>
              <tr>
                <th scope="col">Account</th>
                <th scope="col" className="num">
                  Payments
                </th>
                <th scope="col" className="num">
                  Earned (DCC)
                </th>
              </tr>
            </thead>
            <tbody>
              {data.earnings.map((e) => (
                <tr key={e.address} data-testid="earnings-row">
                  <td>
                    {e.label} <span className="mono hint">{e.address}</span>
                  </td>
                  <td className="num">{e.payments}</td>
                  <td className="num" title={e.earned}>
                    {shortDcc(e.earned)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
  );
}
