'use client';

import { type FormEvent, useState } from 'react';
import { api, sentence } from '../lib/api';
import { KEYSTORE_KINDS, type KeystoreKind } from '../lib/keystore/kinds';
import { keystoreCode } from '../lib/keystore/lazy';
import { proveKey } from '../lib/keystore/prove';
import type { KeystoreView } from '../lib/keystore/view';
import { Field } from './field';
import { KindChoice } from './kind-choice';

/** Generates a key and encrypts it in the browser, then stores the encrypted JSON with the portal. */
export function CreateKeystore({
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
    const firstInvalid = Object.keys(errors)[0];
    if (firstInvalid) {
      // Keyboard and screen-reader users land on the field to fix.
      requestAnimationFrame(() => document.getElementById(firstInvalid)?.focus());
      return;
    }

    setProgress(0);
    try {
      const { createKeystore } = await keystoreCode();
      const created = await createKeystore({ kind, label, passphrase, onProgress: setProgress });
      // The new key signs the portal's challenge right away: a keystore made here is stored proven.
      const proof = await proveKey(created.address, created.sign);
      if (!proof.ok) {
        onError(`The keystore was made but not saved: ${sentence(proof.error.message)}`);
        return;
      }
      const saved = await api<{ keystore: KeystoreView }>('/api/keystores', {
        body: { kind, label: created.label, keystore: created.json, proof: proof.data },
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
        A new key is generated and encrypted in this browser; it signs the portal's challenge, so the keystore
        is proven at once. The portal stores only the encrypted file.
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
