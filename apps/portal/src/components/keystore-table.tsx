'use client';

import { type FormEvent, useState } from 'react';
import { api, sentence } from '../lib/api';
import { KEYSTORE_KINDS, keystoreFileName } from '../lib/keystore/kinds';
import { keystoreCode } from '../lib/keystore/lazy';
import type { KeystoreView } from '../lib/keystore/view';
import { Field } from './field';

/** The user's keystores with their actions: download (server file), check passphrase (in the browser), delete. */
export function KeystoreTable({
  keystores,
  onDeleted,
  onError,
}: {
  keystores: KeystoreView[];
  onDeleted: (id: string) => void;
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
            <th scope="col">Added</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {keystores.map((k) => (
            <KeystoreRow key={k.id} keystore={k} onDeleted={onDeleted} onError={onError} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function KeystoreRow({
  keystore,
  onDeleted,
  onError,
}: {
  keystore: KeystoreView;
  onDeleted: (id: string) => void;
  onError: (text: string) => void;
}) {
  const [confirming, setConfirming] = useState(false);
  const [checking, setChecking] = useState(false);
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
      <tr data-testid="keystore-row" data-address={keystore.address}>
        <td>{keystore.label}</td>
        <td>
          <span className="badge">{KEYSTORE_KINDS[keystore.kind].title}</span>
        </td>
        <td>
          <span className="mono">{keystore.address}</span>
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
      {checking ? (
        <tr>
          <td colSpan={5}>
            <CheckPassphrase keystore={keystore} />
          </td>
        </tr>
      ) : null}
    </>
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
