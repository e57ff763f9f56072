'use client';

import { useEffect, useRef, useState } from 'react';
import { downloadFile } from '../lib/download';
import { KEYSTORE_KINDS, keystoreFileName } from '../lib/keystore/kinds';
import { keystoreCode } from '../lib/keystore/lazy';
import type { KeystoreView } from '../lib/keystore/view';
import { CreateKeystore } from './create-keystore';
import { KeystoreTable } from './keystore-table';
import { UploadKeystore } from './upload-keystore';

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
            onProven={(view) => {
              setKeystores((list) => list.map((k) => (k.id === view.id ? view : k)));
              announce({
                tone: 'success',
                text: `Proved the key of "${view.label}" (${view.address}): its jobs and accounts are yours here.`,
              });
            }}
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
            announce({
              tone: 'success',
              text: view.provenAt
                ? `Uploaded keystore "${view.label}" for ${view.address}; its key is proven.`
                : `Uploaded keystore "${view.label}" for ${view.address}, unproven: it grants nothing until you prove its key.`,
            });
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
