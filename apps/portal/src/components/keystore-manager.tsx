'use client';

import { type FormEvent, useEffect, useRef, useState } from 'react';
import { api, sentence } from '../lib/api';
import { downloadFile } from '../lib/download';
import { KEYSTORE_KINDS, type KeystoreKind, keystoreFileName } from '../lib/keystore/kinds';
import type { KeystoreView } from '../lib/keystore/view';
import { Field } from './field';

/**
 * ethers (key generation, scrypt, AES) and the zod keystore schema are loaded on demand, so the page
 * renders and becomes interactive without them; they are fetched in the background once it has.
 */
const keystoreCode = () => import('../lib/keystore/create');
const keystoreFormat = () => import('../lib/keystore/format');

type Notice = { tone: 'success' | 'error'; text: string; download?: { fileName: string; json: string } };

/**
 * The keystores page: list, create (in the browser), upload, download, check a passphrase, delete.
 * Passphrases and clear keys stay in this component; the server only receives encrypted JSON.
 */
export function KeystoreManager({ initial }: { initial: KeystoreView[] }) {
  const [keystores, setKeystores] = useState(initial);
  const [notice, setNotice] = useState<Notice | null>(null);
  const noticeRef = useRef<HTMLDivElement>(null);
  useEffect(() => {
    void keystoreCode().catch(() => undefined);
  }, []);

  function announce(next: Notice) {
    setNotice(next);
    requestAnimationFrame(() => noticeRef.current?.focus());
  }
  function added(view: KeystoreView) {
    setKeystores((list) => [view, ...list.filter((k) => k.id !== view.id)]);
  }

  return (
    <>
      {notice ? (
        <div
          className={`alert ${notice.tone}`}
          role={notice.tone === 'error' ? 'alert' : 'status'}
          tabIndex={-1}
          ref={noticeRef}
          data-testid="keystore-notice"
        >
          <p>{notice.text}</p>
          {notice.download ? (
            <p>
              <button
                type="button"
                onClick={() =>
                  notice.download && downloadFile(notice.download.fileName, notice.download.json)
                }
              >
                Download {notice.download.fileName}
              </button>
            </p>
          ) : null}
        </div>
      ) : null}

      <section className="card" aria-labelledby="list-heading">
        <h2 id="list-heading">Your keystores</h2>
        {keystores.length === 0 ? (
          <div className="empty" data-testid="keystores-empty">
            <strong>No keystores yet</strong>
            Create an identity keystore (<code>id.keystore</code>) and a bank-account keystore (
            <code>default.keystore</code>) below, or upload ones you already have.
          </div>
        ) : (
          <KeystoreTable
            keystores={keystores}
            onDeleted={(id) => {
              setKeystores((list) => list.filter((k) => k.id !== id));
              announce({ tone: 'success', text: 'Keystore deleted.' });
            }}
            onError={(text) => announce({ tone: 'error', text })}
          />
        )}
      </section>

      <div className="grid-2">
        <CreateKeystore
          onCreated={(view, json) => {
            added(view);
            announce({
              tone: 'success',
              text: `Created ${KEYSTORE_KINDS[view.kind].title.toLowerCase()} keystore "${view.label}" for ${view.address}. Download it and keep the passphrase safe: nobody can recover it.`,
              download: { fileName: keystoreFileName(view.kind), json },
            });
          }}
          onError={(text) => announce({ tone: 'error', text })}
        />
        <UploadKeystore
          onUploaded={(view) => {
            added(view);
            announce({ tone: 'success', text: `Uploaded keystore "${view.label}" for ${view.address}.` });
          }}
          onError={(text) => announce({ tone: 'error', text })}
        />
      </div>

      <section className="card" aria-labelledby="use-heading">
        <h2 id="use-heading">Using the files with dcp-client</h2>
        <p>
          dcp-client looks for <code>id.keystore</code> (your identity, which signs every message) and{' '}
          <code>default.keystore</code> (the bank account that pays for jobs) in{' '}
          <code>$DCP_RESOURCE_DIR</code>, else <code>~/.dcp</code>. Keystores with an empty passphrase load
          without a prompt.
        </p>
        <pre>{'mkdir -p ~/.dcp && mv ~/Downloads/id.keystore ~/Downloads/default.keystore ~/.dcp/'}</pre>
      </section>
    </>
  );
}

function KeystoreTable({
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

function KindChoice({
  name,
  value,
  onChange,
}: {
  name: string;
  value: KeystoreKind;
  onChange: (k: KeystoreKind) => void;
}) {
  return (
    <fieldset>
      <legend>Kind</legend>
      {(Object.keys(KEYSTORE_KINDS) as KeystoreKind[]).map((kind) => (
        <label key={kind} className="choice">
          <input
            type="radio"
            name={name}
            value={kind}
            checked={value === kind}
            onChange={() => onChange(kind)}
          />
          {KEYSTORE_KINDS[kind].title} <span className="hint">({KEYSTORE_KINDS[kind].fileName})</span>
        </label>
      ))}
    </fieldset>
  );
}

function CreateKeystore({
  onCreated,
  onError,
}: {
  onCreated: (view: KeystoreView, json: string) => void;
  onError: (text: string) => void;
}) {
  const [kind, setKind] = useState<KeystoreKind>('identity');
  const [noPassphrase, setNoPassphrase] = useState(false);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [progress, setProgress] = useState<number | null>(null);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formEl = event.currentTarget;
    const form = new FormData(formEl);
    const label = String(form.get('create-label') ?? '').trim() || KEYSTORE_KINDS[kind].defaultLabel;
    const passphrase = noPassphrase ? '' : String(form.get('create-passphrase') ?? '');
    const confirm = noPassphrase ? '' : String(form.get('create-confirm') ?? '');
    const errors: Record<string, string> = {};
    if (!noPassphrase && passphrase.length === 0) {
      errors['create-passphrase'] = 'Enter a passphrase, or tick "No passphrase" below.';
    }
    if (passphrase !== confirm)
      errors['create-confirm'] = 'The two passphrases differ; type the same one twice.';
    if (label.length > 64) errors['create-label'] = 'Use at most 64 characters.';
    setFieldErrors(errors);
    if (Object.keys(errors).length) return;

    setProgress(0);
    try {
      const { createKeystore } = await keystoreCode();
      const created = await createKeystore({ kind, label, passphrase, onProgress: setProgress });
      const saved = await api<{ keystore: KeystoreView }>('/api/keystores', {
        body: { kind, label: created.label, keystore: created.json },
      });
      if (!saved.ok) {
        onError(`The keystore was made but not saved: ${sentence(saved.error.message)}`);
        return;
      }
      formEl.reset();
      setNoPassphrase(false);
      onCreated(saved.data.keystore, created.json);
    } catch (e) {
      onError(`Could not create the keystore: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      setProgress(null);
    }
  }

  return (
    <section className="card" aria-labelledby="create-heading">
      <h2 id="create-heading">Create a keystore</h2>
      <p className="hint">
        A new key is generated and encrypted in this browser. The portal stores only the encrypted file.
      </p>
      <form onSubmit={submit} noValidate>
        <KindChoice name="create-kind" value={kind} onChange={setKind} />
        <Field
          id="create-label"
          label="Label"
          type="text"
          placeholder={KEYSTORE_KINDS[kind].defaultLabel}
          maxLength={64}
          hint="Shown by dcp-client when it asks for the passphrase."
          error={fieldErrors['create-label']}
        />
        {noPassphrase ? null : (
          <>
            <Field
              id="create-passphrase"
              label="Passphrase"
              type="password"
              autoComplete="new-password"
              error={fieldErrors['create-passphrase']}
            />
            <Field
              id="create-confirm"
              label="Repeat the passphrase"
              type="password"
              autoComplete="new-password"
              error={fieldErrors['create-confirm']}
            />
          </>
        )}
        <div className="field">
          <label className="choice">
            <input
              type="checkbox"
              checked={noPassphrase}
              onChange={(e) => setNoPassphrase(e.currentTarget.checked)}
            />
            No passphrase (dcp-client will not prompt; anyone with the file can use the key)
          </label>
        </div>
        <div className="actions">
          <button type="submit" disabled={progress !== null}>
            {progress === null ? 'Create keystore' : `Encrypting… ${Math.round(progress * 100)}%`}
          </button>
        </div>
      </form>
    </section>
  );
}

function UploadKeystore({
  onUploaded,
  onError,
}: {
  onUploaded: (view: KeystoreView) => void;
  onError: (text: string) => void;
}) {
  const [kind, setKind] = useState<KeystoreKind>('identity');
  const [fileError, setFileError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formEl = event.currentTarget;
    const form = new FormData(formEl);
    const file = form.get('upload-file');
    if (!(file instanceof File) || file.size === 0) {
      setFileError('Choose a keystore file (for example id.keystore).');
      return;
    }
    const text = await file.text();
    const format = await keystoreFormat().catch(() => null);
    if (!format) {
      onError('The keystore code did not load; check your connection and try again.');
      return;
    }
    const parsed = format.parseKeystore(text);
    if (!parsed.ok) {
      setFileError(sentence(`this is not a keystore dcp-client can read: ${parsed.problems[0]}`));
      return;
    }
    setFileError(undefined);
    const label =
      String(form.get('upload-label') ?? '').trim() ||
      parsed.keystore.label ||
      KEYSTORE_KINDS[kind].defaultLabel;
    setBusy(true);
    const saved = await api<{ keystore: KeystoreView }>('/api/keystores', {
      body: { kind, label, keystore: text },
    });
    setBusy(false);
    if (!saved.ok) {
      if (saved.error.field === 'keystore') setFileError(sentence(saved.error.message));
      else onError(`Could not upload the keystore: ${sentence(saved.error.message)}`);
      return;
    }
    formEl.reset();
    onUploaded(saved.data.keystore);
  }

  return (
    <section className="card" aria-labelledby="upload-heading">
      <h2 id="upload-heading">Upload a keystore</h2>
      <p className="hint">An encrypted Ethereum v3 keystore, such as one dcp-client wrote to ~/.dcp.</p>
      <form onSubmit={submit} noValidate>
        <KindChoice name="upload-kind" value={kind} onChange={setKind} />
        <Field
          id="upload-label"
          label="Label"
          type="text"
          maxLength={64}
          hint="Leave empty to keep the file's own label."
        />
        <Field
          id="upload-file"
          label="Keystore file"
          type="file"
          accept=".keystore,.json,application/json"
          error={fileError}
        />
        <div className="actions">
          <button type="submit" disabled={busy}>
            {busy ? 'Uploading…' : 'Upload keystore'}
          </button>
        </div>
      </form>
    </section>
  );
}
