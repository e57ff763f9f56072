'use client';

import { useCallback, useEffect, useRef, useState } from 'react';
import type { AccountEarnings } from './earnings';

type Status = import('./browser-worker').BrowserWorkerStatus;
type Worker = import('./browser-worker').BrowserWorker;

export interface BankAccountChoice {
  address: string;
  label: string;
}

const PHASE_TEXT: Record<Status['phase'], string> = {
  idle: 'Not working',
  starting: 'Connecting…',
  working: 'Working',
  stopping: 'Stopping…',
  stopped: 'Stopped',
  failed: 'Failed',
};

const BALANCE_POLL_MS = 3_000;

function coresAvailable(): number {
  const n = typeof navigator === 'undefined' ? 2 : navigator.hardwareConcurrency || 2;
  return Math.max(1, Math.min(8, n));
}

/**
 * "Start working": runs our DCP worker in this page (supervisor in the page, one Web Worker per
 * sandbox), earning into the chosen bank account, with live progress; the worker code is loaded on
 * demand so the page is interactive before it arrives.
 */
export function WorkerPanel({
  schedulerUrl,
  accounts,
}: {
  schedulerUrl: string;
  accounts: BankAccountChoice[];
}) {
  const [account, setAccount] = useState(accounts[0]?.address ?? '');
  const [sandboxes, setSandboxes] = useState(2);
  const [maxSandboxes, setMaxSandboxes] = useState(2);
  const [status, setStatus] = useState<Status | null>(null);
  const [earnings, setEarnings] = useState<AccountEarnings | null>(null);
  const [earningsError, setEarningsError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const workerRef = useRef<Worker | null>(null);

  useEffect(() => setMaxSandboxes(coresAvailable()), []);

  const phase = status?.phase ?? 'idle';
  const active = phase === 'starting' || phase === 'working' || phase === 'stopping';
  const computed = status?.slicesComputed ?? 0;

  const refreshEarnings = useCallback(async (address: string) => {
    if (!address) return;
    try {
      const res = await fetch(`/worker/earnings/${address}`, { cache: 'no-store' });
      const body = (await res.json()) as { account?: AccountEarnings; error?: { message: string } };
      if (body.account) {
        setEarnings(body.account);
        setEarningsError(null);
      } else setEarningsError(body.error?.message ?? `HTTP ${res.status}`);
    } catch (e) {
      setEarningsError((e as Error).message);
    }
  }, []);

  // the balance of the chosen account: now, after each accepted result, and every few seconds
  useEffect(() => {
    void refreshEarnings(account);
    const timer = setInterval(() => void refreshEarnings(account), BALANCE_POLL_MS);
    return () => clearInterval(timer);
  }, [account, refreshEarnings]);
  useEffect(() => {
    if (computed > 0) void refreshEarnings(account);
  }, [computed, account, refreshEarnings]);

  // leaving the page ends the worker: its slices go back to the scheduler at once
  useEffect(() => {
    const leave = () => void workerRef.current?.stop(true);
    window.addEventListener('pagehide', leave);
    return () => {
      window.removeEventListener('pagehide', leave);
      leave();
    };
  }, []);

  async function start() {
    setLoading(true);
    try {
      const [{ BrowserWorker }, { scriptDataUrl, webWorkerSandboxes }] = await Promise.all([
        import('./browser-worker'),
        import('./web-worker-channel'),
      ]);
      const res = await fetch('/worker/sandbox.js', { cache: 'no-store' });
      if (!res.ok) throw new Error(`the sandbox script did not load (HTTP ${res.status})`);
      const worker = new BrowserWorker({
        schedulerUrl,
        paymentAddress: account,
        maxSandboxes: sandboxes,
        sandboxes: webWorkerSandboxes(scriptDataUrl(await res.text())),
      });
      workerRef.current = worker;
      worker.subscribe(setStatus);
      setStatus(worker.status);
      setLoading(false);
      await worker.start();
    } catch (e) {
      setLoading(false);
      setStatus((s) =>
        s
          ? { ...s, phase: 'failed', error: (e as Error).message }
          : {
              phase: 'failed',
              error: (e as Error).message,
              workerId: '',
              identity: '',
              paymentAddress: account,
              slicesComputed: 0,
              earned: 0,
              jobs: {},
              slices: [],
              sandboxes: { open: 0, working: 0 },
              log: [],
            },
      );
    }
  }

  async function stop() {
    await workerRef.current?.stop();
  }

  return (
    <>
      <section className="card" aria-labelledby="worker-controls-heading">
        <h2 id="worker-controls-heading">Work</h2>
        <div className="grid-2">
          <div className="field">
            <label htmlFor="worker-account">Earn into</label>
            <select
              id="worker-account"
              value={account}
              disabled={active}
              onChange={(e) => {
                setAccount(e.target.value);
                setEarnings(null);
              }}
            >
              {accounts.map((a) => (
                <option key={a.address} value={a.address}>
                  {a.label} ({a.address.slice(0, 10)}…)
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="worker-sandboxes">Sandboxes (Web Workers)</label>
            <select
              id="worker-sandboxes"
              value={sandboxes}
              disabled={active}
              onChange={(e) => setSandboxes(Number(e.target.value))}
            >
              {Array.from({ length: maxSandboxes }, (_, i) => i + 1).map((n) => (
                <option key={n} value={n}>
                  {n}
                </option>
              ))}
            </select>
          </div>
        </div>
        <div className="actions">
          {active ? (
            <button
              type="button"
              className="button secondary"
              onClick={() => void stop()}
              disabled={phase === 'stopping'}
            >
              Stop working
            </button>
          ) : (
            <button
              type="button"
              className="button"
              onClick={() => void start()}
              disabled={loading || !account}
            >
              {loading ? 'Loading the worker…' : 'Start working'}
            </button>
          )}
          <span className="badge" data-testid="worker-phase" data-phase={phase} role="status">
            {PHASE_TEXT[phase]}
          </span>
        </div>
        {status?.error ? (
          <div className="alert error" role="alert" data-testid="worker-error">
            <p>{status.error}</p>
          </div>
        ) : null}
      </section>

      <div className="grid-2">
        <section className="card" aria-labelledby="worker-figures-heading">
          <h2 id="worker-figures-heading">Progress</h2>
          <dl>
            <dt>Slices computed</dt>
            <dd data-testid="slices-computed" aria-live="polite">
              {computed}
            </dd>
            <dt>Earned (reported by the scheduler)</dt>
            <dd data-testid="earned">{(status?.earned ?? 0).toFixed(6)} DCC</dd>
            <dt>Sandboxes open / working</dt>
            <dd data-testid="sandboxes">
              {status?.sandboxes.open ?? 0} / {status?.sandboxes.working ?? 0}
            </dd>
          </dl>
        </section>
        <section className="card" aria-labelledby="worker-account-heading">
          <h2 id="worker-account-heading">Bank account</h2>
          <dl>
            <dt>Address</dt>
            <dd className="mono" data-testid="account-address">
              {account}
            </dd>
            <dt>Balance</dt>
            <dd data-testid="account-balance" aria-live="polite">
              {earnings ? `${earnings.balance} DCC` : earningsError ? 'unavailable' : '…'}
            </dd>
            <dt>Held in escrow</dt>
            <dd>{earnings ? `${earnings.held} DCC` : '…'}</dd>
          </dl>
          {earningsError ? <p className="hint">The bank did not answer: {earningsError}</p> : null}
        </section>
      </div>

      <section className="card" aria-labelledby="worker-slices-heading">
        <h2 id="worker-slices-heading">Slices at hand</h2>
        {status && status.slices.length > 0 ? (
          <div className="table-scroll">
            <table>
              <thead>
                <tr>
                  <th scope="col">Job</th>
                  <th scope="col">Slice</th>
                  <th scope="col">State</th>
                  <th scope="col">Progress</th>
                </tr>
              </thead>
              <tbody>
                {status.slices.map((s) => (
                  <tr key={`${s.jobId}:${s.sliceNumber}`} data-testid="worker-slice">
                    <td>{s.jobName}</td>
                    <td>{s.sliceNumber}</td>
                    <td>{s.state}</td>
                    <td>
                      {s.state === 'queued' ? (
                        '—'
                      ) : (
                        <progress
                          max={100}
                          value={s.progress ?? undefined}
                          aria-label={`slice ${s.sliceNumber} progress`}
                        />
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : (
          <p className="hint">
            {active ? 'Waiting for slices from the scheduler…' : 'Start working to fetch slices.'}
          </p>
        )}
        {status && Object.keys(status.jobs).length > 0 ? (
          <>
            <h3>Jobs worked on</h3>
            <ul data-testid="worker-jobs">
              {Object.entries(status.jobs).map(([id, j]) => (
                <li key={id}>
                  {j.name}: {j.computed} slice(s) <span className="mono">{id}</span>
                </li>
              ))}
            </ul>
          </>
        ) : null}
      </section>

      {status && status.log.length > 0 ? (
        <section className="card" aria-labelledby="worker-log-heading">
          <h2 id="worker-log-heading">Log</h2>
          {status.workerId ? (
            <p className="hint">
              Worker <span className="mono">{status.workerId}</span>, identity{' '}
              <span className="mono" data-testid="worker-identity">
                {status.identity}
              </span>
            </p>
          ) : null}
          <ol data-testid="worker-log">
            {status.log.map((l) => (
              <li key={`${l.at}-${l.message}`} className={l.level === 'info' ? undefined : 'field-error'}>
                {new Date(l.at).toLocaleTimeString()} {l.message}
              </li>
            ))}
          </ol>
        </section>
      ) : null}
    </>
  );
}
