/**
 * What a keystore is for, and the file name dcp-client looks for. Kept free of zod and ethers so the
 * keystores page can show its list before the heavier keystore code has loaded.
 */
export const KEYSTORE_KINDS = {
  identity: { fileName: 'id.keystore', title: 'Identity', defaultLabel: 'id' },
  bank: { fileName: 'default.keystore', title: 'Bank account', defaultLabel: 'default' },
} as const;
export type KeystoreKind = keyof typeof KEYSTORE_KINDS;

/** The file name a keystore of this kind should be saved under. */
export function keystoreFileName(kind: KeystoreKind): string {
  return KEYSTORE_KINDS[kind].fileName;
}
