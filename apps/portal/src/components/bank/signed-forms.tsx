'use client';

import { type FormEvent, useEffect, useState } from 'react';
import { type ApiError, api, sentence } from '../../lib/api';
import { shortDcc } from '../../lib/dcc';
import { useLive } from '../../lib/live';
import { bridgeMessage, newNonce, signWithKeystore, transferMessage } from '../../lib/sign';

export interface BankKeystore {
  id: string;
  label: string;
  address: string;
}

function AccountSelect({
  id,
  label,
  accounts,
  value,
  onChange,
}: {
  id: string;
  label: string;
  accounts: BankKeystore[];
  value: string;
  onChange: (v: string) => void;
}) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
        {accounts.map((a) => (
          <option key={a.id} value={a.id}>
            {a.label} ({a.address.slice(0, 10)}…)
          </option>
        ))}
      </select>
    </div>
  );
}

type Notice = { ok: boolean; text: string } | null;

function NoticeLine({ notice, testId }: { notice: Notice; testId: string }) {
  if (!notice) return null;
  return (
    <p
      className={`alert ${notice.ok ? 'success' : 'error'}`}
      role={notice.ok ? 'status' : 'alert'}
      data-testid={testId}
    >
      {notice.text}
    </p>
  );
}

/** Transfer DCC between accounts: the source account's keystore signs the transfer in this browser. */
export function TransferForm({ accounts }: { accounts: BankKeystore[] }) {
  const [fromId, setFromId] = useState(accounts[0]?.id ?? '');
  const [to, setTo] = useState('');
  const [amount, setAmount] = useState('');
  const [passphrase, setPassphrase] = useState('');
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<Notice>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const from = accounts.find((a) => a.id === fromId);
    if (!from) return;
    setBusy(true);
    setNotice(null);
    try {
      const body = {
        from: from.address,
        to: to.trim().toLowerCase(),
        amount: amount.trim(),
        nonce: newNonce(),
      };
      if (!/^0x[0-9a-f]{40}$/.test(body.to))
        throw new Error('enter the destination as 0x followed by 40 hex digits');
      const signature = await signWithKeystore(from.id, passphrase, transferMessage(body));
      const result = await api('/api/bank/transfers', { body: { ...body, signature } });
      if (!result.ok) throw new Error(result.error.message);
      setNotice({ ok: true, text: `Sent ${body.amount} DCC to ${body.to}.` });
      setAmount('');
      setPassphrase('');
    } catch (e) {
      setNotice({
        ok: false,
        text: `The transfer was not made: ${sentence(e instanceof Error ? e.message : String(e))}`,
      });
    } finally {
      setBusy(false);
    }
  }

  if (!accounts.length) return null;
  return (
    <section className="card" aria-labelledby="transfer-heading">
      <h2 id="transfer-heading">Transfer DCC</h2>
      <p className="hint">Your passphrase unlocks the keystore in this browser to sign; it is never sent.</p>
      <form onSubmit={submit}>
        <AccountSelect
          id="transfer-from"
          label="From"
          accounts={accounts}
          value={fromId}
          onChange={setFromId}
        />
        <div className="field">
          <label htmlFor="transfer-to">To address</label>
          <input
            id="transfer-to"
            type="text"
            value={to}
            onChange={(e) => setTo(e.target.value)}
            placeholder="0x…"
            required
          />
        </div>
        <div className="field">
          <label htmlFor="transfer-amount">Amount (DCC)</label>
          <input
            id="transfer-amount"
            type="text"
            inputMode="decimal"
            value={amount}
            onChange={(e) => setAmount(e.target.value)}
            required
          />
        </div>
        <div className="field">
          <label htmlFor="transfer-passphrase">Passphrase of the source keystore</label>
          <input
            id="transfer-passphrase"
            type="password"
            value={passphrase}
            onChange={(e) => setPassphrase(e.target.value)}
          />
          <p className="hint">Leave empty for a keystore made without a passphrase.</p>
        </div>
        <button type="submit" disabled={busy}>
          {busy ? 'Signing and sending…' : 'Sign and send'}
        </button>
      </form>
      <NoticeLine notice={notice} testId="transfer-notice" />
    </section>
  );
}

interface BridgeState {
  chainBalance: string;
  bankBalance: string;
  transactions: { hash: string; kind: string; amount: string; blockNumber?: number; at?: string }[];
}

/** Deposit from / withdraw to the emulated chain, signed in this browser. */
export function BridgePanel({ accounts }: { accounts: BankKeystore[] }) {
  const [accountId, setAccountId] = useState(accounts[0]?.id ?? '');
  const [state, setState] = useState<BridgeState | null>(null);
  const [loadError, setLoadError] = useState<ApiError | null>(null);
  const [amount, setAmount] = useState('');
  const [passphrase, setPassphrase] = useState('');
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<Notice>(null);
  const [version, setVersion] = useState(0);
  const account = accounts.find((a) => a.id === accountId);
  // reload when the account's bank balance moves (faucet, jobs, transfers), as the accounts table shows
  const { data: balances } = useLive<{ address: string; balance: string }[]>('accounts', []);
  const bankBalance = balances.find((b) => b.address === account?.address)?.balance;

  useEffect(() => {
    if (!account) return;
    let stale = false;
    void api<BridgeState>(`/api/bank/bridge/${account.address}`).then((r) => {
      if (stale) return;
      if (r.ok) {
        setState(r.data);
        setLoadError(null);
      } else {
        setState(null);
        setLoadError(r.error);
      }
    });
    return () => {
      stale = true;
    };
  }, [account, version, bankBalance]);

  async function move(kind: 'deposit' | 'withdraw') {
    if (!account) return;
    setBusy(true);
    setNotice(null);
    try {
      const body = { address: account.address, amount: amount.trim(), nonce: newNonce() };
      const signature = await signWithKeystore(account.id, passphrase, bridgeMessage(kind, body));
      const result = await api<{ hash: string }>(
        kind === 'deposit' ? '/api/bank/bridge/deposits' : '/api/bank/bridge/withdrawals',
        { body: { ...body, signature } },
      );
      if (!result.ok) throw new Error(result.error.message);
      setNotice({
        ok: true,
        text: `${kind === 'deposit' ? 'Deposited' : 'Withdrew'} ${body.amount} DCC (transaction ${result.data.hash}).`,
      });
      setAmount('');
      setVersion((v) => v + 1);
    } catch (e) {
      setNotice({
        ok: false,
        text: `Nothing moved: ${sentence(e instanceof Error ? e.message : String(e))}`,
      });
    } finally {
      setBusy(false);
    }
  }

  if (!accounts.length) return null;
  return (
    <section className="card" aria-labelledby="bridge-heading">
      <h2 id="bridge-heading">Emulated chain</h2>
      <p className="hint">Move DCC between an account on the emulated chain and the bank.</p>
      <AccountSelect
        id="bridge-account"
        label="Account"
        accounts={accounts}
        value={accountId}
        onChange={setAccountId}
      />
      {loadError ? (
        <p className="alert error" role="alert" data-testid="bridge-error">
          The chain bridge did not answer: {sentence(loadError.message)} Deposits and withdrawals need a bank
          with the bridge enabled.
        </p>
      ) : state ? (
        <dl className="facts" data-testid="bridge-balances">
          <dt>On the chain</dt>
          <dd>{shortDcc(state.chainBalance)} DCC</dd>
          <dt>In the bank</dt>
          <dd>{shortDcc(state.bankBalance)} DCC</dd>
        </dl>
      ) : (
        <p className="hint">Loading…</p>
      )}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void move('deposit');
        }}
      >
        <div className="field">
          <label htmlFor="bridge-amount">Amount (DCC)</label>
          <input
            id="bridge-amount"
            type="text"
            inputMode="decimal"
            value={amount}
            onChange={(e) => setAmount(e.target.value)}
            required
          />
        </div>
        <div className="field">
          <label htmlFor="bridge-passphrase">Passphrase of the account keystore</label>
          <input
            id="bridge-passphrase"
            type="password"
            value={passphrase}
            onChange={(e) => setPassphrase(e.target.value)}
          />
        </div>
        <div className="actions">
          <button type="submit" disabled={busy}>
            Deposit to the bank
          </button>
          <button type="button" className="secondary" disabled={busy} onClick={() => void move('withdraw')}>
            Withdraw to the chain
          </button>
        </div>
      </form>
      <NoticeLine notice={notice} testId="bridge-notice" />
      {state?.transactions.length ? (
        <div className="table-scroll">
          <table>
            <caption>Chain transactions</caption>
            <thead>
              <tr>
                <th scope="col">Kind</th>
                <th scope="col" className="num">
                  Amount
                </th>
                <th scope="col">Block</th>
                <th scope="col">Hash</th>
              </tr>
            </thead>
            <tbody>
              {state.transactions.map((t) => (
                <tr key={t.hash}>
                  <td>{t.kind}</td>
                  <td className="num">{shortDcc(t.amount)}</td>
                  <td>{t.blockNumber ?? ''}</td>
                  <td>
                    <span className="mono">{t.hash}</span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}
