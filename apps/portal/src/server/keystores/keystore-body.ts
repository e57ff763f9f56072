import { z } from 'zod';
import { keystoreKind, MAX_KEYSTORE_BYTES } from '../../lib/keystore/format';

/** Labels are shown in lists and written into the keystore's `label` field. */
export const labelSchema = z
  .string({ error: 'enter a label' })
  .trim()
  .min(1, 'enter a label')
  .max(64, 'use at most 64 characters for the label')
  .regex(/^[^\p{Cc}]*$/u, 'the label cannot contain control characters');

/** POST /api/keystores: an encrypted keystore made or chosen in the browser. */
export const saveKeystoreBody = z.object({
  kind: keystoreKind,
  label: labelSchema,
  /** the keystore JSON text (or object); never a passphrase or a clear key */
  keystore: z.union([
    z.string().max(MAX_KEYSTORE_BYTES, 'the keystore is too large'),
    z.record(z.string(), z.unknown()),
  ]),
  /**
   * the key's proof (a challenge from POST /api/keystores/challenges signed with it): the keystore is
   * stored proven and grants its address's jobs, history, groups and earnings at once. Without it, it
   * is stored unproven and grants nothing until proven.
   */
  proof: z.unknown().optional(),
});
export type SaveKeystoreBody = z.input<typeof saveKeystoreBody>;
