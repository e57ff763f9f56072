'use client';

import { type FormEvent, useState } from 'react';
import { api, sentence } from '../lib/api';
import { KEYSTORE_KINDS, keystoreFileName } from '../lib/keystore/kinds';
import { keystoreCode } from '../lib/keystore/lazy';
import { proveKey, unlockProblem } from '../lib/keystore/prove';
import type { KeystoreView } from '../lib/keystore/view';
import { Field } from './field';

/**
 * The user's keystores with their actions: download (server file), check passphrase (in the browser),
 * prove the key (unproven ones: unlock here and sign the portal's challenge), delete.
 */
export function KeystoreTable({
  keystores,
  onDeleted,
  onProven,
  onError,
}: {
  keystores: KeystoreView[];
  onDeleted: (id: string) => void;
  onProven: (view: KeystoreView) => void;
  onError: (text: string) => void;
}) {
  return (
    <div className="table-scroll">
      <table>
        <caption className="visually-hidden">Your keystores</caption>
        <thead>
          <tr>
            <th scope="col">Label</th>
            <th scope="col">Kind</th>
            <th scope="col">Address</th>
            <th scope="col">Key</th>
            <th scope="col">Added</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {keystores.map((k) => (
            <KeystoreRow
              key={k.id}
              keystore={k}
              onDeleted={onDeleted}
              onProven={onProven}
              onError={onError}
            />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function KeystoreRow({
  keystore,
  onDeleted,
  onProven,
  onError,
}: {
  keystore: KeystoreView;
  onDeleted: (id: string) => void;
  onProven: (view: KeystoreView) => void;
  onError: (text: string) => void;
}) {
  const [confirming, setConfirming] = useState(false);
  const [checking, setChecking] = useState(false);
  const [proving, setProving] = useState(false);
  const [busy, setBusy] = useState(false);
  const fileName = keystoreFileName(keystore.kind);

  async function remove() {
    setBusy(true);
    const result = await api(`/api/keystores/${keystore.id}`, { method: 'DELETE' });
    setBusy(false);
    if (result.ok || result.status === 404) onDeleted(keystore.id);
    else onError(`Could not delete the keystore: ${sentence(result.error.message)}`);
  }

  return (
    <>
      <tr
        data-testid="keystore-row"
        data-address={keystore.address}
        data-proven={keystore.provenAt ? 'true' : 'false'}
      >
        <td>{keystore.label}</td>
        <td>
          <span className="badge">{KEYSTORE_KINDS[keystore.kind].title}</span>
        </td>
        <td>
          <span className="mono">{keystore.address}</span>
        </td>
        <td>
          {keystore.provenAt ? (
            <span className="badge" data-testid="keystore-proven" title="Its key signed a portal challenge">
              Proven
            </span>
          ) : (
            <span
              className="badge"
              data-testid="keystore-unproven"
              title="Grants nothing until its key is proven"
            >
              Unproven
            </span>
          )}
        </td>
        <td>
          <time dateTime={keystore.createdAt}>{new Date(keystore.createdAt).toLocaleString()}</time>
        </td>
        <td>
          <div className="actions">
            <a
              className="button secondary small"
              href={`/api/keystores/${keystore.id}`}
              download={fileName}
              aria-label={`Download ${keystore.label} as ${fileName}`}
            >
              Download
            </a>
            {keystore.provenAt ? null : (
              <button
                type="button"
                className="small"
                aria-expanded={proving}
                onClick={() => setProving((v) => !v)}
                aria-label={`Prove the key of ${keystore.label}`}
              >
                Prove
              </button>
            )}
            <button
              type="button"
              className="secondary small"
              aria-expanded={checking}
              onClick={() => setChecking((v) => !v)}
              aria-label={`Check the passphrase of ${keystore.label}`}
            >
              Check passphrase
            </button>
            {confirming ? (
              <>
                <button type="button" className="danger small" onClick={remove} disabled={busy}>
                  {busy ? 'Deleting…' : 'Yes, delete'}
                </button>
                <button type="button" className="secondary small" onClick={() => setConfirming(false)}>
                  Keep it
                </button>
              </>
            ) : (
              <button
                type="button"
                className="danger small"
                onClick={() => setConfirming(true)}
                aria-label={`Delete ${keystore.label}`}
              >
                Delete
              </button>
            )}
          </div>
        </td>
      </tr>
      {proving && !keystore.provenAt ? (
        <tr>
          <td colSpan={6}>
            <ProveKey
              keystore={keystore}
              onProven={(view) => {
                setProving(false);
                onProven(view);
              }}
            />
          </td>
        </tr>
      ) : null}
      {checking ? (
        <tr>
          <td colSpan={6}>
            <CheckPassphrase keystore={keystore} />
          </td>
        </tr>
      ) : null}
    </>
  );
}

/** Unlocks a stored keystore here and signs the portal's challenge with its key; the server marks it proven. */
function ProveKey({
  keystore,
  onProven,
}: {
  keystore: KeystoreView;
  onProven: (view: KeystoreView) => void;
}) {
  const [problem, setProblem] = useState<string | null>(null);
  const [progress, setProgress] = useState<number | null>(null);
  const id = `prove-${keystore.id}`;

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const passphrase = String(new FormData(event.currentTarget).get(id) ?? '');
    setProblem(null);
    setProgress(0);
    try {
      const response = await fetch(`/api/keystores/${keystore.id}`, { cache: 'no-store' }).catch(() => null);
      if (!response?.ok) {
        setProblem('Could not fetch the keystore from the portal; reload the page and try again.');
        return;
      }
      const code = await keystoreCode().catch(() => null);
      if (!code) {
        setProblem('The keystore code did not load; check your connection and try again.');
        return;
      }
      const unlocked = await code.unlockKeystore(await response.text(), passphrase, setProgress);
      if (!unlocked.ok) {
        setProblem(unlockProblem(unlocked.reason));
        return;
      }
      if (unlocked.unlocked.address !== keystore.address) {
        setProblem(`The keystore unlocks but holds the key of ${unlocked.unlocked.address}.`);
        return;
      }
      const proof = await proveKey(keystore.address, unlocked.unlocked.sign);
      if (!proof.ok) {
        setProblem(`Could not prove the key: ${sentence(proof.error.message)}`);
        return;
      }
      const proven = await api<{ keystore: KeystoreView }>(`/api/keystores/${keystore.id}/proof`, {
        body: proof.data,
      });
      if (!proven.ok) {
        setProblem(`The portal refused the proof: ${sentence(proven.error.message)}`);
        return;
      }
      onProven(proven.data.keystore);
    } finally {
      setProgress(null);
    }
  }

  return (
    <form onSubmit={submit} className="narrow" data-testid="prove-form">
      <Field
        id={id}
        label={`Passphrase to prove ${keystore.label}`}
        type="password"
        autoComplete="off"
        hint="Unlocks the keystore in your browser, whose key then signs a one-time challenge of the portal. The passphrase is never sent."
      />
      <div className="actions">
        <button type="submit" disabled={progress !== null}>
          {progress === null ? 'Sign the challenge' : `Decrypting… ${Math.round(progress * 100)}%`}
        </button>
      </div>
      <div aria-live="polite">{problem ? <p className="alert error">{problem}</p> : null}</div>
    </form>
  );
}

function CheckPassphrase({ keystore }: { keystore: KeystoreView }) {
  const [state, setState] = useState<{ tone: 'success' | 'error'; text: string } | null>(null);
  const [progress, setProgress] = useState<number | null>(null);
  const id = `check-${keystore.id}`;

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const passphrase = String(new FormData(event.currentTarget).get(id) ?? '');
    setState(null);
    setProgress(0);
    const response = await fetch(`/api/keystores/${keystore.id}`, { cache: 'no-store' }).catch(() => null);
    if (!response?.ok) {
      setProgress(null);
      setState({
        tone: 'error',
        text: 'Could not fetch the keystore from the portal; reload the page and try again.',
      });
      return;
    }
    const result = await keystoreCode()
      .then(async ({ checkPassphrase }) => checkPassphrase(await response.text(), passphrase, setProgress))
      .catch(() => null);
    setProgress(null);
    if (!result) {
      setState({
        tone: 'error',
        text: 'The keystore code did not load; check your connection and try again.',
      });
      return;
    }
    if (result.ok && result.address === keystore.address) {
      setState({ tone: 'success', text: 'The passphrase is right: this keystore unlocks.' });
    } else if (result.ok) {
      setState({
        tone: 'error',
        text: `The keystore unlocks but holds the key of ${result.address}, not the recorded address.`,
      });
    } else if (result.reason === 'passphrase') {
      setState({ tone: 'error', text: 'That passphrase does not unlock this keystore.' });
    } else {
      setState({ tone: 'error', text: 'The keystore is damaged and cannot be decrypted.' });
    }
  }

  return (
    <form onSubmit={submit} className="narrow">
      <Field
        id={id}
        label={`Passphrase of ${keystore.label}`}
        type="password"
        autoComplete="off"
        hint="Checked in your browser; it is never sent to the portal."
      />
      <div className="actions">
        <button type="submit" disabled={progress !== null}>
          {progress === null ? 'Check' : `Decrypting… ${Math.round(progress * 100)}%`}
        </button>
      </div>
      <div aria-live="polite">{state ? <p className={`alert ${state.tone}`}>{state.text}</p> : null}</div>
    </form>
  );
}
