'use client';

import { useState } from 'react';
import { type ApiError, api, sentence } from '../../lib/api';
import { shortDcc, sumDcc } from '../../lib/dcc';
import { useLive } from '../../lib/live';
import { ErrorNotice } from '../error-notice';
import { Progress, StatusBadge } from './progress';

export interface JobPageData {
  job: {
    id: string;
    name?: string;
    description?: string;
    owner: string;
    paymentAccount: string;
    status: string;
    totalSlices: number;
    completedSlices: number;
    errors: number;
    deployTime: string;
    finishedTime?: string;
    cancelReason?: string;
    slices: { queued: number; leased: number; done: number };
    groups: string[];
  };
  slices: {
    sliceNumber: number;
    status: string;
    worker?: string;
    attempts: number;
    errors: number;
    lastError?: string;
    metering?: { cpuMs?: number | null } | null;
    completedAt?: string;
    paid?: string;
    preview?: string;
    resultIsError?: boolean;
  }[];
  events: { seq: number; name: string; data: Record<string, unknown>; createdAt?: string }[];
  trail: {
    escrowed: string;
    paid: string;
    commission: string;
    refunded: string;
    holds: { remaining: string }[];
    steps: {
      kind: string;
      transaction: {
        id: string;
        createdAt: string;
        refs: { slice?: number };
        postings: { book: string; amount: string }[];
      };
    }[];
  } | null;
  rate: number;
}

function eventText(e: JobPageData['events'][number]): string {
  const d = e.data;
  const slice = typeof d.sliceNumber === 'number' ? `slice ${d.sliceNumber}: ` : '';
  if (e.name === 'console') {
    const m = d.message;
    return `${slice}${Array.isArray(m) ? m.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(' ') : typeof m === 'string' ? m : JSON.stringify(m)}`;
  }
  if (e.name === 'error') return `${slice}${String(d.name ?? 'Error')}: ${String(d.message ?? '')}`;
  if (e.name === 'status') return `status ${String(d.runStatus ?? d.status ?? '')}`;
  const { job: _job, ...rest } = d;
  return `${slice}${JSON.stringify(rest)}`;
}

function stepAmount(step: NonNullable<JobPageData['trail']>['steps'][number]): string {
  return sumDcc(step.transaction.postings.map((p) => p.amount).filter((a) => !a.startsWith('-')));
}

/** One job, live: progress and rate, money trail, per-slice status/timing/payment/result, console, cancel. */
export function JobDetail({
  initial,
  initialError,
  id,
}: {
  initial: JobPageData | null;
  initialError: ApiError | null;
  id: string;
}) {
  const { data, error } = useLive<JobPageData | null>(`job:${id}`, initial, initialError);
  const [cancelling, setCancelling] = useState(false);
  const [confirm, setConfirm] = useState(false);
  const [cancelError, setCancelError] = useState<string | null>(null);

  if (!data) return error ? <ErrorNotice error={error} what="this job" /> : <p>Loading…</p>;
  const { job, slices, events, trail, rate } = data;

  async function cancel() {
    setCancelling(true);
    setCancelError(null);
    const r = await api(`/api/jobs/${encodeURIComponent(id)}/cancel`, { body: {} });
    setCancelling(false);
    setConfirm(false);
    if (!r.ok) setCancelError(`The job was not cancelled: ${sentence(r.error.message)}`);
  }

  const stillHeld = trail ? sumDcc(trail.holds.map((h) => h.remaining)) : '0';
  const accounted = trail ? sumDcc([trail.paid, trail.commission, trail.refunded, stillHeld]) : '0';
  return (
    <>
      <h1>{job.name || 'Unnamed job'}</h1>
      <p className="mono">{job.id}</p>
      {error ? <ErrorNotice error={error} what="the latest state of this job" /> : null}
      <section className="card" aria-labelledby="progress-heading">
        <h2 id="progress-heading">Progress</h2>
        <div className="actions">
          <StatusBadge status={job.status} />
          <span data-testid="job-status" data-status={job.status} className="visually-hidden">
            {job.status}
          </span>
          {job.status === 'running' ? (
            confirm ? (
              <>
                <span>Cancel this job? Unfinished slices will not be computed.</span>
                <button
                  type="button"
                  className="danger small"
                  onClick={() => void cancel()}
                  disabled={cancelling}
                >
                  Yes, cancel the job
                </button>
                <button type="button" className="secondary small" onClick={() => setConfirm(false)}>
                  Keep it running
                </button>
              </>
            ) : (
              <button type="button" className="danger small" onClick={() => setConfirm(true)}>
                Cancel job
              </button>
            )
          ) : null}
        </div>
        {cancelError ? (
          <p className="alert error" role="alert">
            {cancelError}
          </p>
        ) : null}
        <Progress done={job.completedSlices} total={job.totalSlices} label="Slices done" />
        <dl className="facts">
          <dt>Slices done</dt>
          <dd data-testid="slices-done">
            {job.completedSlices} of {job.totalSlices}
          </dd>
          <dt>Computing now</dt>
          <dd>{job.slices.leased}</dd>
          <dt>Waiting</dt>
          <dd>{job.slices.queued}</dd>
          <dt>Rate</dt>
          <dd>{rate.toFixed(2)} slices/s</dd>
          <dt>Errors</dt>
          <dd>{job.errors}</dd>
          <dt>Deployed</dt>
          <dd>{new Date(job.deployTime).toLocaleString()}</dd>
          {job.finishedTime ? (
            <>
              <dt>Finished</dt>
              <dd>{new Date(job.finishedTime).toLocaleString()}</dd>
            </>
          ) : null}
          {job.cancelReason ? (
            <>
              <dt>Cancelled</dt>
              <dd>{job.cancelReason}</dd>
            </>
          ) : null}
          <dt>Compute groups</dt>
          <dd>{job.groups.length ? job.groups.join(', ') : 'none'}</dd>
          <dt>Owner</dt>
          <dd className="mono">{job.owner}</dd>
          <dt>Paid from</dt>
          <dd className="mono">{job.paymentAccount}</dd>
        </dl>
      </section>

      <section className="card" id="money" aria-labelledby="money-heading">
        <h2 id="money-heading">Money</h2>
        {!trail ? (
          <p className="hint" data-testid="trail-empty">
            The bank has no money movements for this job yet (free jobs and jobs still being accepted have
            none).
          </p>
        ) : (
          <>
            <dl className="facts" data-testid="trail">
              <dt>Escrowed</dt>
              <dd data-testid="trail-escrowed" data-amount={trail.escrowed}>
                {shortDcc(trail.escrowed)} DCC
              </dd>
              <dt>Paid to workers</dt>
              <dd data-testid="trail-paid" data-amount={trail.paid}>
                {shortDcc(trail.paid)} DCC
              </dd>
              <dt>Commission</dt>
              <dd data-testid="trail-commission" data-amount={trail.commission}>
                {shortDcc(trail.commission)} DCC
              </dd>
              <dt>Refunded</dt>
              <dd data-testid="trail-refunded" data-amount={trail.refunded}>
                {shortDcc(trail.refunded)} DCC
              </dd>
              <dt>Still in escrow</dt>
              <dd data-testid="trail-held" data-amount={stillHeld}>
                {shortDcc(stillHeld)} DCC
              </dd>
            </dl>
            <p
              className={`alert ${accounted === trail.escrowed ? 'success' : 'error'}`}
              data-testid="trail-balance"
            >
              {accounted === trail.escrowed
                ? `Payments, commission, refund and what is still held add up to the escrow (${shortDcc(trail.escrowed)} DCC).`
                : `The trail does not add up: ${shortDcc(accounted)} accounted for of ${shortDcc(trail.escrowed)} escrowed.`}
            </p>
            <details>
              <summary>Every movement ({trail.steps.length})</summary>
              <table>
                <thead>
                  <tr>
                    <th scope="col">When</th>
                    <th scope="col">Step</th>
                    <th scope="col">Slice</th>
                    <th scope="col" className="num">
                      DCC
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {trail.steps.map((s) => (
                    <tr key={s.transaction.id} data-testid="trail-step" data-kind={s.kind}>
                      <td>{new Date(s.transaction.createdAt).toLocaleTimeString()}</td>
                      <td>{s.kind}</td>
                      <td>{s.transaction.refs.slice ?? ''}</td>
                      <td className="num">{shortDcc(stepAmount(s))}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </details>
          </>
        )}
      </section>

      <section className="card" aria-labelledby="slices-heading">
        <h2 id="slices-heading">Slices</h2>
        {slices.length === 0 ? (
          <p className="hint">No slices yet: the client is still uploading the input.</p>
        ) : (
          <div className="table-scroll">
            <table>
              <caption className="visually-hidden">Slices of this job</caption>
              <thead>
                <tr>
                  <th scope="col">#</th>
                  <th scope="col">Status</th>
                  <th scope="col">Worker</th>
                  <th scope="col">Attempts</th>
                  <th scope="col">Finished</th>
                  <th scope="col" className="num">
                    CPU ms
                  </th>
                  <th scope="col" className="num">
                    Paid
                  </th>
                  <th scope="col">Result</th>
                </tr>
              </thead>
              <tbody>
                {slices.map((s) => (
                  <tr
                    key={s.sliceNumber}
                    data-testid="slice-row"
                    data-slice={s.sliceNumber}
                    data-status={s.status}
                    data-worker={s.worker ?? ''}
                  >
                    <td>{s.sliceNumber}</td>
                    <td>
                      <StatusBadge status={s.status} />
                    </td>
                    <td>
                      <span className="mono">{s.worker ?? ''}</span>
                    </td>
                    <td>
                      {s.attempts}
                      {s.errors ? ` (${s.errors} failed)` : ''}
                    </td>
                    <td>{s.completedAt ? new Date(s.completedAt).toLocaleTimeString() : ''}</td>
                    <td className="num">{s.metering?.cpuMs != null ? Math.round(s.metering.cpuMs) : ''}</td>
                    <td className="num">{s.paid ? shortDcc(s.paid) : ''}</td>
                    <td>
                      {s.preview !== undefined ? (
                        <code data-testid="slice-result" className={s.resultIsError ? 'debit' : ''}>
                          {s.preview}
                        </code>
                      ) : s.lastError ? (
                        <span className="debit">{s.lastError}</span>
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <section className="card" aria-labelledby="console-heading">
        <h2 id="console-heading">Console and errors</h2>
        {events.length === 0 ? (
          <p className="hint">
            Nothing yet. What slices write with console.log and the errors they throw show here.
          </p>
        ) : (
          <ol className="console" data-testid="console">
            {events.slice(-200).map((e) => (
              <li key={e.seq} className={`event-${e.name}`}>
                <span className="badge">{e.name}</span> <span className="mono">{eventText(e)}</span>
              </li>
            ))}
          </ol>
        )}
      </section>
    </>
  );
}
