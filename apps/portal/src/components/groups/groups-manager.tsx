'use client';

import { type FormEvent, useRef, useState } from 'react';
import { type ApiError, api, sentence } from '../../lib/api';
import { useLive } from '../../lib/live';
import { ErrorNotice } from '../error-notice';
import { Field } from '../field';
import { Progress, StatusBadge } from '../jobs/progress';

export interface GroupRow {
  joinKey: string;
  name: string;
  owner: string;
  commissionRate: string;
  createdAt: string;
  jobs: { id: string; name?: string; status: string; completedSlices: number; totalSlices: number }[];
  members: string[];
}

interface Created {
  joinKey: string;
  joinSecret: string;
}

function Instructions({
  joinKey,
  secret,
  schedulerUrl,
}: {
  joinKey: string;
  secret: string;
  schedulerUrl: string;
}) {
  return (
    <>
      <p>
        Workers join with dcp-worker’s <code>-g</code> (join key, comma, secret):
      </p>
      <pre>{`npx dcp-worker --dcp-scheduler ${schedulerUrl} -g '${joinKey},${secret}'`}</pre>
      <p>
        Jobs are sent to the group with dcp-client’s <code>computeGroups</code>:
      </p>
      <pre>{`job.computeGroups = [{ joinKey: '${joinKey}', joinSecret: '${secret}' }];
await job.exec();`}</pre>
    </>
  );
}

/** Create, list and delete the user's compute groups; the join secret is shown once, at creation. */
export function GroupsManager({
  initial,
  initialError,
  addresses,
  schedulerUrl,
}: {
  initial: GroupRow[];
  initialError: ApiError | null;
  addresses: { address: string; label: string }[];
  schedulerUrl: string;
}) {
  const { data: groups, error } = useLive<GroupRow[]>('groups', initial, initialError);
  const [removed, setRemoved] = useState<Set<string>>(new Set());
  const [created, setCreated] = useState<Created | null>(null);
  const [fieldError, setFieldError] = useState<{ field?: string; message: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);
  const [extra, setExtra] = useState<GroupRow[]>([]);
  const secretRef = useRef<HTMLDivElement>(null);

  async function create(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setFieldError(null);
    const result = await api<{ group: GroupRow; joinSecret: string }>('/api/groups', {
      body: {
        joinKey: String(form.get('group-key') ?? ''),
        name: String(form.get('group-name') ?? ''),
        commissionRate: String(form.get('group-rate') ?? ''),
        ...(form.get('group-owner') ? { owner: String(form.get('group-owner')) } : {}),
      },
    });
    setBusy(false);
    if (!result.ok) {
      const field = result.error.field
        ? `group-${{ joinKey: 'key', name: 'name', commissionRate: 'rate', owner: 'owner' }[result.error.field] ?? ''}`
        : undefined;
      setFieldError({ ...(field ? { field } : {}), message: sentence(result.error.message) });
      if (field) document.getElementById(field)?.focus();
      return;
    }
    setCreated({ joinKey: result.data.group.joinKey, joinSecret: result.data.joinSecret });
    setExtra((e) => [result.data.group, ...e]);
    (event.target as HTMLFormElement).reset();
    requestAnimationFrame(() => secretRef.current?.focus());
  }

  async function call(path: string, what: string, key: string) {
    setActionError(null);
    const r = await api(path, { method: 'DELETE' });
    if (!r.ok) setActionError(`Could not ${what}: ${sentence(r.error.message)}`);
    else setRemoved((s) => new Set([...s, key]));
  }

  const known = new Set(groups.map((g) => g.joinKey));
  const shown = [...extra.filter((g) => !known.has(g.joinKey)), ...groups].filter(
    (g) => !removed.has(g.joinKey),
  );
  const err = (f: string) => (fieldError?.field === f ? fieldError.message : undefined);

  return (
    <>
      <section className="card narrow-wide" aria-labelledby="create-group-heading">
        <h2 id="create-group-heading">Create a compute group</h2>
        <form onSubmit={create} noValidate>
          <Field id="group-name" type="text" label="Name" required error={err('group-name')} />
          <Field
            id="group-key"
            type="text"
            label="Join key"
            required
            hint="Workers and jobs name the group by this key; no spaces or commas."
            error={err('group-key')}
          />
          <Field
            id="group-rate"
            type="text"
            label="Commission rate"
            defaultValue="0.05"
            inputMode="decimal"
            hint="Share of each slice payment paid to you, e.g. 0.05 for 5 %."
            error={err('group-rate')}
          />
          {addresses.length ? (
            <div className="field">
              <label htmlFor="group-owner">Commission paid to</label>
              <select id="group-owner" name="group-owner">
                {addresses.map((a) => (
                  <option key={a.address} value={a.address}>
                    {a.label} ({a.address.slice(0, 10)}…)
                  </option>
                ))}
              </select>
            </div>
          ) : null}
          <button type="submit" disabled={busy}>
            {busy ? 'Creating…' : 'Create group'}
          </button>
          {fieldError && !fieldError.field ? (
            <p className="alert error" role="alert">
              {fieldError.message}
            </p>
          ) : null}
        </form>
      </section>
      {created ? (
        <div className="alert success" ref={secretRef} tabIndex={-1} data-testid="group-secret-notice">
          <p>
            <strong>Group {created.joinKey} created.</strong> Its join secret is shown only now; the scheduler
            keeps only its hash. Copy it:
          </p>
          <p>
            <code data-testid="join-secret">{created.joinSecret}</code>
          </p>
          <Instructions joinKey={created.joinKey} secret={created.joinSecret} schedulerUrl={schedulerUrl} />
          <button type="button" className="secondary small" onClick={() => setCreated(null)}>
            I have saved the secret
          </button>
        </div>
      ) : null}
      {error ? <ErrorNotice error={error} what="your compute groups" /> : null}
      {actionError ? (
        <p className="alert error" role="alert">
          {actionError}
        </p>
      ) : null}
      <section className="card" aria-labelledby="groups-heading">
        <h2 id="groups-heading">Your compute groups</h2>
        {shown.length === 0 ? (
          <div className="empty" data-testid="groups-empty">
            <strong>No compute groups yet</strong>
            <p>A compute group keeps jobs on the workers you choose. Create one above.</p>
          </div>
        ) : (
          shown.map((g) => (
            <article
              key={g.joinKey}
              className="group"
              data-testid="group"
              data-key={g.joinKey}
              aria-labelledby={`group-${g.joinKey}`}
            >
              <h3 id={`group-${g.joinKey}`}>
                {g.name} <code>{g.joinKey}</code>
              </h3>
              <dl className="facts">
                <dt>Commission</dt>
                <dd>{Number(g.commissionRate) * 100} %</dd>
                <dt>Commission to</dt>
                <dd className="mono">{g.owner}</dd>
                <dt>Created</dt>
                <dd>{new Date(g.createdAt).toLocaleString()}</dd>
              </dl>
              <h4>Jobs</h4>
              {g.jobs.length === 0 ? (
                <p className="hint">
                  None. Deploy with{' '}
                  <code>{`job.computeGroups = [{ joinKey: '${g.joinKey}', joinSecret }]`}</code>.
                </p>
              ) : (
                <ul className="plain" data-testid="group-jobs">
                  {g.jobs.map((j) => (
                    <li key={j.id} data-testid="group-job" data-job={j.id}>
                      <span>{j.name || 'Unnamed job'}</span> <span className="mono hint">{j.id}</span>{' '}
                      <StatusBadge status={j.status} />
                      <Progress
                        done={j.completedSlices}
                        total={j.totalSlices}
                        label={`Progress of ${j.name || j.id}`}
                      />
                      {j.status === 'running' ? (
                        <button
                          type="button"
                          className="secondary small"
                          onClick={() =>
                            void call(
                              `/api/groups/${encodeURIComponent(g.joinKey)}/jobs/${encodeURIComponent(j.id)}`,
                              'remove the job',
                              `${g.joinKey}/${j.id}`,
                            )
                          }
                        >
                          Remove from group
                        </button>
                      ) : null}
                    </li>
                  ))}
                </ul>
              )}
              <h4>Workers seen computing for this group</h4>
              {g.members.length === 0 ? (
                <p className="hint">
                  None yet. Start a worker with <code>{`-g '${g.joinKey},<secret>'`}</code>.
                </p>
              ) : (
                <ul className="plain" data-testid="group-members">
                  {g.members.map((m) => (
                    <li key={m} className="mono">
                      {m}
                    </li>
                  ))}
                </ul>
              )}
              <button
                type="button"
                className="danger small"
                onClick={() => {
                  if (window.confirm(`Delete the compute group ${g.joinKey}? Its workers and jobs lose it.`))
                    void call(`/api/groups/${encodeURIComponent(g.joinKey)}`, 'delete the group', g.joinKey);
                }}
              >
                Delete group {g.joinKey}
              </button>
            </article>
          ))
        )}
      </section>
    </>
  );
}
