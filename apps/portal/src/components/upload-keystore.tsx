'use client';

import { type FormEvent, useState } from 'react';
import { api, sentence } from '../lib/api';
import { KEYSTORE_KINDS, type KeystoreKind } from '../lib/keystore/kinds';
import { keystoreCode, keystoreFormat } from '../lib/keystore/lazy';
import { proveKey, unlockProblem } from '../lib/keystore/prove';
import type { KeystoreView } from '../lib/keystore/view';
import { Field } from './field';
import { KindChoice } from './kind-choice';

/**
 * Reads a keystore file in the browser, checks it, unlocks it with the passphrase typed here and signs
 * the portal's challenge with its key (so it is stored proven), then stores it, still encrypted. It may
 * also be stored unproven: downloadable, but granting nothing until proven from the list.
 */
export function UploadKeystore({
  onUploaded,
  onError,
}: {
  onUploaded: (view: KeystoreView) => void;
  onError: (text: string) => void;
}) {
  const [kind, setKind] = useState<KeystoreKind>('identity');
  const [fileError, setFileError] = useState<string | undefined>();
  const [passphraseError, setPassphraseError] = useState<string | undefined>();
  const [unproven, setUnproven] = useState(false);
  const [busy, setBusy] = useState<string | null>(null);

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
    setPassphraseError(undefined);
    const label =
      String(form.get('upload-label') ?? '').trim() ||
      parsed.keystore.label ||
      KEYSTORE_KINDS[kind].defaultLabel;
    let proof: { challenge: string; signature: string } | undefined;
    if (!unproven) {
      setBusy('Unlocking…');
      const code = await keystoreCode().catch(() => null);
      if (!code) {
        setBusy(null);
        onError('The keystore code did not load; check your connection and try again.');
        return;
      }
      const unlocked = await code.unlockKeystore(text, String(form.get('upload-passphrase') ?? ''));
      if (!unlocked.ok) {
        setBusy(null);
        setPassphraseError(unlockProblem(unlocked.reason));
        requestAnimationFrame(() => document.getElementById('upload-passphrase')?.focus());
        return;
      }
      setBusy('Proving…');
      const proved = await proveKey(unlocked.unlocked.address, unlocked.unlocked.sign);
      if (!proved.ok) {
        setBusy(null);
        onError(`Could not prove the key: ${sentence(proved.error.message)}`);
        return;
      }
      proof = proved.data;
    }
    setBusy('Uploading…');
    const saved = await api<{ keystore: KeystoreView }>('/api/keystores', {
      body: { kind, label, keystore: text, ...(proof ? { proof } : {}) },
    });
    setBusy(null);
    if (!saved.ok) {
      if (saved.error.field === 'keystore') setFileError(sentence(saved.error.message));
      else onError(`Could not upload the keystore: ${sentence(saved.error.message)}`);
      return;
    }
    formEl.reset();
    setUnproven(false);
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
        {unproven ? null : (
          <Field
            id="upload-passphrase"
            label="Passphrase"
            type="password"
            autoComplete="off"
            hint="Unlocks the keystore in your browser to prove you hold its key; it is never sent."
            error={passphraseError}
          />
        )}
        <div className="field">
          <label className="choice">
            <input
              type="checkbox"
              checked={unproven}
              onChange={(e) => setUnproven(e.currentTarget.checked)}
            />
            Store without proving the key (it grants no jobs or accounts until you prove it)
          </label>
        </div>
        <div className="actions">
          <button type="submit" disabled={busy !== null}>
            {busy ?? 'Upload keystore'}
          </button>
        </div>
      </form>
    </section>
  );
}
