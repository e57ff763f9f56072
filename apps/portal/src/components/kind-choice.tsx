'use client';

import { KEYSTORE_KINDS, type KeystoreKind } from '../lib/keystore/kinds';

/** Identity or bank account, as radio buttons in a fieldset. */
export function KindChoice({
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
