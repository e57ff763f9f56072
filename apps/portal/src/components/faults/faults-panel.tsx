'use client';

import type { ApiError } from '../../lib/api';
import { useLive } from '../../lib/live';
import type { FaultRow } from '../../server/faults/faults.usecase';
import { ErrorNotice } from '../error-notice';

function scopeOf(f: FaultRow): string {
  const parts: string[] = [];
  if (f.job) parts.push(`job ${f.job}`);
  else if (f.otherJob) parts.push("a job that isn't yours");
  if (f.worker) parts.push(`worker ${f.worker}`);
  return parts.length ? parts.join(', ') : 'whole stack';
}

/**
 * The faults injected into the stack (`dcp-emu fault add`, `POST /admin/faults`, `emu.faults.add`),
 * followed live: a fault that fires or is spent shows on the next push. Read-only: the portal has no
 * notion of a stack admin; clear them with `dcp-emu fault clear`.
 */
export function FaultsPanel({
  initial,
  initialError,
}: {
  initial: FaultRow[];
  initialError: ApiError | null;
}) {
  const { data: faults, error } = useLive<FaultRow[]>('faults', initial, initialError);
  return (
    <section className="card" id="faults" aria-labelledby="faults-heading">
      <h2 id="faults-heading">Injected faults</h2>
      {error ? <ErrorNotice error={error} what="the stack's faults" /> : null}
      {faults.length === 0 ? (
        <p className="hint" data-testid="faults-empty">
          No faults are injected into this stack. Add one with <code>npx dcp-emu fault add KIND</code> to see
          how your app copes with crashed workers, lost results or a bank outage.
        </p>
      ) : (
        <>
          <div className="table-scroll">
            <table data-testid="faults">
              <caption className="visually-hidden">Faults injected into the stack, oldest first</caption>
              <thead>
                <tr>
                  <th scope="col">Fault</th>
                  <th scope="col">Scope</th>
                  <th scope="col">Times</th>
                  <th scope="col">Fired</th>
                  <th scope="col">State</th>
                  <th scope="col">What it does</th>
                </tr>
              </thead>
              <tbody>
                {faults.map((f) => (
                  <tr
                    key={f.id}
                    data-testid="fault-row"
                    data-fault={f.id}
                    data-kind={f.kind}
                    data-spent={String(f.spent)}
                  >
                    <td>
                      <strong>{f.kind}</strong>
                      <div className="mono hint">{f.id}</div>
                    </td>
                    <td className={f.job || f.worker ? 'mono' : undefined}>{scopeOf(f)}</td>
                    <td>{f.times}</td>
                    <td data-testid="fault-fired">{f.fired}</td>
                    <td>
                      <span className={`badge ${f.spent ? 'status-finished' : 'status-running'}`}>
                        {f.spent ? 'spent' : 'active'}
                      </span>
                    </td>
                    <td>{f.detail}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <p className="hint">
            Spent faults stay listed until cleared: <code>npx dcp-emu fault clear [ID]</code>.
          </p>
        </>
      )}
    </section>
  );
}
