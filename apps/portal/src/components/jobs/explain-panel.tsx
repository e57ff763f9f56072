'use client';

import { useCallback, useEffect, useState } from 'react';
import { type ApiError, api } from '../../lib/api';
import { ErrorNotice } from '../error-notice';

interface Explanation {
  job: { status: string; fundsShort: boolean; refusedOrigins: string[]; wage: number | null };
  blocked: { reason: string; message: string } | null;
  workers: {
    worker: string;
    connected: boolean;
    lastRequest: string | null;
    groups: string[];
    minimumWage: number | null;
    reason: string;
    message: string;
  }[];
  summary: string;
}

const REFRESH_MS = 3000;

/**
 * "Why is my job idle?": the scheduler's answer for this job — its own state, and for every worker
 * that asks for work, why it is not computing it (compute group, requirements, minimum wage, funds…).
 * Refreshed every few seconds while the job runs.
 */
export function ExplainPanel({ id }: { id: string }) {
  const [data, setData] = useState<Explanation | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const load = useCallback(async () => {
    const r = await api<Explanation>(`/api/jobs/${encodeURIComponent(id)}/explain`);
    if (r.ok) {
      setData(r.data);
      setError(null);
    } else setError(r.error);
  }, [id]);
  const running = data === null || data.job.status === 'running';
  useEffect(() => {
    void load();
    if (!running) return;
    const t = setInterval(() => void load(), REFRESH_MS);
    return () => clearInterval(t);
  }, [load, running]);

  return (
    <section className="card" id="explain" aria-labelledby="explain-heading">
      <h2 id="explain-heading">Why is this job (not) running?</h2>
      {error ? <ErrorNotice error={error} what="the scheduler's explanation" /> : null}
      {!data ? (
        <p>Loading…</p>
      ) : (
        <>
          <p data-testid="explain-summary" data-reason={data.blocked?.reason ?? ''}>
            {data.summary}
          </p>
          {data.job.refusedOrigins.length ? (
            <p className="hint">
              Workers refused to fetch from {data.job.refusedOrigins.join(', ')} for this job; allow an origin
              with <code>dcp-emu up --allow-origin ORIGIN</code>.
            </p>
          ) : null}
          {data.workers.length ? (
            <table data-testid="explain-workers">
              <thead>
                <tr>
                  <th scope="col">Worker</th>
                  <th scope="col">Groups</th>
                  <th scope="col">Minimum wage</th>
                  <th scope="col">Reason</th>
                </tr>
              </thead>
              <tbody>
                {data.workers.map((w) => (
                  <tr key={w.worker} data-reason={w.reason}>
                    <td className="mono">
                      {w.worker}
                      {w.connected ? '' : ' (gone)'}
                    </td>
                    <td>{w.groups.join(', ') || 'none'}</td>
                    <td>{w.minimumWage ? `${w.minimumWage} DCC/CPU-h` : 'none'}</td>
                    <td>
                      <strong>{w.reason}</strong>: {w.message}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
        </>
      )}
    </section>
  );
}
