import type { KeystoreKind } from './kinds';

/** A keystore as the browser lists it (no encrypted JSON). */
export interface KeystoreView {
  id: string;
  kind: KeystoreKind;
  label: string;
  address: string;
  /** ISO 8601 */
  createdAt: string;
  /** ISO 8601 when the key was proven in a browser; null: stored unproven, grants nothing */
  provenAt: string | null;
}

/** EIP-55-free short form for narrow places: 0x1234…abcd */
export function shortAddress(address: string): string {
  return address.length > 14 ? `${address.slice(0, 8)}…${address.slice(-6)}` : address;
}
