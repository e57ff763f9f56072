'use client';

import Link from 'next/link';
import { type FormEvent, useState } from 'react';
import { type ApiError, api, sentence } from '../../lib/api';
import { shortDcc } from '../../lib/dcc';
import { useLive } from '../../lib/live';
import { ErrorNotice } from '../error-notice';

export interface AccountRow {
  address: string;
  label: string;
  balance: string;
  held: string;
}

/** The user's bank accounts with live balances, and the dev faucet. */
export function AccountsPanel({
  initial,
  initialError,
}: {
  initial: AccountRow[];
  initialError: ApiError | null;
}) {
  const { data: accounts, error: shownError } = useLive<AccountRow[]>('accounts', initial, initialError);
  const [target, setTarget] = useState('');
  const [amount, setAmount] = useState('100');
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<{ ok: boolean; text: string } | null>(null);

  async function mint(event: FormEvent) {
    event.preventDefault();
    const address = target || accounts[0]?.address;
    if (!address) return;
    setBusy(true);
    setNotice(null);
    const result = await api('/api/bank/faucet', { body: { address, amount: amount.trim() } });
    setBusy(false);
    setNotice(
      result.ok
        ? { ok: true, text: `${amount.trim()} DCC added to ${address}.` }
        : { ok: false, text: `The faucet did not pay: ${sentence(result.error.message)}` },
    );
  }

  return (
    <section className="card" aria-labelledby="accounts-heading">
      <h2 id="accounts-heading">Bank accounts</h2>
      {shownError ? <ErrorNotice error={shownError} what="your balances" /> : null}
      {accounts.length === 0 ? (
        <div className="empty" data-testid="accounts-empty">
          <strong>No bank account yet</strong>
          <p>
            Create a bank-account keystore on the <Link href="/keystores">Keystores</Link> page; it shows here
            with its balance.
          </p>
        </div>
      ) : (
        <>
          <div className="table-scroll">
            <table>
              <caption className="visually-hidden">Your bank accounts and balances</caption>
              <thead>
                <tr>
                  <th scope="col">Label</th>
                  <th scope="col">Address</th>
                  <th scope="col" className="num">
                    Balance (DCC)
                  </th>
                  <th scope="col" className="num">
                    In escrow
                  </th>
                  <th scope="col">
                    <span className="visually-hidden">History</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {accounts.map((a) => (
                  <tr key={a.address} data-testid="account-row" data-address={a.address}>
                    <td>{a.label}</td>
                    <td>
                      <span className="mono">{a.address}</span>
                    </td>
                    <td className="num" data-testid="account-balance" title={a.balance}>
                      {shortDcc(a.balance)}
                    </td>
                    <td className="num" title={a.held}>
                      {shortDcc(a.held)}
                    </td>
                    <td>
                      <Link href={`/bank/${a.address}`} aria-label={`History of ${a.label}`}>
                        History
                      </Link>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <form className="inline-form" onSubmit={mint} aria-labelledby="faucet-heading">
            <h3 id="faucet-heading">Dev faucet</h3>
            <div className="field">
              <label htmlFor="faucet-account">Account</label>
              <select id="faucet-account" value={target} onChange={(e) => setTarget(e.target.value)}>
                {accounts.map((a) => (
                  <option key={a.address} value={a.address}>
                    {a.label} ({a.address.slice(0, 10)}…)
                  </option>
                ))}
              </select>
            </div>
            <div className="field">
              <label htmlFor="faucet-amount">Amount (DCC)</label>
              <input
                id="faucet-amount"
                type="text"
                inputMode="decimal"
                value={amount}
                onChange={(e) => setAmount(e.target.value)}
              />
            </div>
            <button type="submit" disabled={busy}>
              {busy ? 'Asking the faucet…' : 'Get DCC from the faucet'}
            </button>
          </form>
          {notice ? (
            <p
              className={`alert ${notice.ok ? 'success' : 'error'}`}
              role="status"
              data-testid="faucet-notice"
            >
              {notice.text}
            </p>
          ) : null}
        </>
      )}
    </section>
  );
}
