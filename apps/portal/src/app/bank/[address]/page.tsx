import type { Metadata } from 'next';
import Link from 'next/link';
import { redirect } from 'next/navigation';
import { ErrorNotice } from '@/components/error-notice';
import { shortDcc } from '@/lib/dcc';
import { currentSession } from '@/server/auth';
import { accountHistory } from '@/server/bank/bank.usecase';
import { getPortal } from '@/server/portal';

export const metadata: Metadata = { title: 'Account history' };

const REASONS: Record<string, string> = {
  mint: 'Faucet',
  transfer: 'Transfer',
  hold: 'Escrow for a job',
  'hold-increase': 'More escrow for a job',
  capture: 'Job payment',
  release: 'Refund of unspent escrow',
  deposit: 'Deposit from the chain',
  withdrawal: 'Withdrawal to the chain',
};

/** Entries on the payer's side link to the job's money trail; earnings from others' jobs do not. */
const PAYER_SIDE = new Set(['hold', 'hold-increase', 'release']);

export default async function HistoryPage({ params }: { params: Promise<{ address: string }> }) {
  const { address } = await params;
  const session = await currentSession();
  if (!session) redirect(`/signin?next=/bank/${encodeURIComponent(address)}`);
  const history = await accountHistory(await getPortal(), session.userId, address);
  return (
    <>
      <p>
        <Link href="/bank">← Bank</Link>
      </p>
      <h1>Account history</h1>
      <p className="mono">{address.toLowerCase()}</p>
      {!history.ok ? (
        <ErrorNotice error={history.error} what="this account’s history" />
      ) : history.value.entries.length === 0 ? (
        <div className="empty card" data-testid="history-empty">
          <strong>Nothing yet</strong>
          <p>
            Use the faucet on the <Link href="/bank">Bank</Link> page, or deploy a job paid from this account.
          </p>
        </div>
      ) : (
        <div className="card table-scroll">
          <table>
            <caption className="visually-hidden">Journal entries, newest first</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">What</th>
                <th scope="col" className="num">
                  Change (DCC)
                </th>
                <th scope="col">Job</th>
              </tr>
            </thead>
            <tbody>
              {history.value.entries.map((e) => {
                const t = e.transaction;
                return (
                  <tr
                    key={`${t.id}-${e.delta}`}
                    data-testid="history-row"
                    data-reason={t.reason}
                    data-delta={e.delta}
                  >
                    <td>
                      <time dateTime={t.createdAt}>{new Date(t.createdAt).toLocaleString()}</time>
                    </td>
                    <td>
                      {REASONS[t.reason] ?? t.reason}
                      {t.refs.slice !== undefined ? ` (slice ${t.refs.slice})` : ''}
                      {t.refs.memo ? <span className="hint"> · {t.refs.memo}</span> : null}
                    </td>
                    <td className={`num ${e.delta.startsWith('-') ? 'debit' : 'credit'}`} title={e.delta}>
                      {e.delta.startsWith('-') ? '' : '+'}
                      {shortDcc(e.delta)}
                    </td>
                    <td>
                      {t.refs.job && PAYER_SIDE.has(t.reason) ? (
                        <Link href={`/jobs/${encodeURIComponent(t.refs.job)}#money`} className="mono">
                          {t.refs.job.slice(0, 12)}…
                        </Link>
                      ) : null}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
