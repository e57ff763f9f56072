/**
 * Signing in the browser: the bank keystore is fetched (still encrypted) from the portal, decrypted
 * here with the passphrase the user typed, and used once for an EIP-191 personal_sign. The key and
 * the passphrase never leave the page.
 */
export async function signWithKeystore(
  keystoreId: string,
  passphrase: string,
  message: string,
): Promise<string> {
  const response = await fetch(`/api/keystores/${encodeURIComponent(keystoreId)}`, {
    credentials: 'same-origin',
    cache: 'no-store',
  });
  if (!response.ok) throw new Error('the keystore could not be loaded; reload the page and try again');
  const json = await response.text();
  const { Wallet } = await import('ethers');
  let wallet: Awaited<ReturnType<typeof Wallet.fromEncryptedJson>>;
  try {
    wallet = await Wallet.fromEncryptedJson(json, passphrase);
  } catch {
    throw new Error('that passphrase does not unlock this account’s keystore');
  }
  return wallet.signMessage(message);
}

/** A fresh idempotency nonce for a signed bank request. */
export function newNonce(): string {
  return `portal-${crypto.randomUUID()}`;
}

export const transferMessage = (v: { from: string; to: string; amount: string; nonce: string }) =>
  JSON.stringify({
    type: 'dcp-emu/bank/transfer@1',
    from: v.from,
    to: v.to,
    amount: v.amount,
    nonce: v.nonce,
  });

export const bridgeMessage = (
  kind: 'deposit' | 'withdraw',
  v: { address: string; amount: string; nonce: string },
) =>
  JSON.stringify({
    type: kind === 'deposit' ? 'dcp-emu/bank/deposit@1' : 'dcp-emu/bank/withdraw@1',
    address: v.address,
    amount: v.amount,
    nonce: v.nonce,
  });
