'use client';

import { type FormEvent, useState } from 'react';
import { api, sentence } from '../lib/api';
import { KEYSTORE_KINDS, type KeystoreKind } from '../lib/keystore/kinds';
import { keystoreFormat } from '../lib/keystore/lazy';
import type { KeystoreView } from '../lib/keystore/view';
import { Field } from './field';
import { KindChoice } from './kind-choice';

/** Reads a keystore file in the browser, checks it, and stores it (still encrypted) with the portal. */
export function UploadKeystore({
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
