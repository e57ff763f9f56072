import type { KeystoreStore } from './ports';

/**
 * The addresses that make data a user's: their **proven** identity and bank-account keystores. A
 * keystore counts only once the browser signed a server challenge with its key (`provenAt`); an
 * uploaded file naming an address proves nothing, so an unproven one grants nothing.
 */
export interface UserAddresses {
  identities: string[];
  banks: string[];
  /** every address above, lowercase */
  all: Set<string>;
  /** bank account labels by address */
  labels: Map<string, string>;
}

export async function userAddresses(
  deps: { keystores: KeystoreStore },
  userId: string,
): Promise<UserAddresses> {
  const keystores = await deps.keystores.list(userId);
  const identities: string[] = [];
  const banks: string[] = [];
  const labels = new Map<string, string>();
  for (const k of keystores) {
    if (k.provenAt === null) continue;
    const address = k.address.toLowerCase();
    (k.kind === 'identity' ? identities : banks).push(address);
    if (!labels.has(address)) labels.set(address, k.label);
  }
  return {
    identities: [...new Set(identities)],
    banks: [...new Set(banks)],
    all: new Set([...identities, ...banks]),
    labels,
  };
}

/** A job is the user's when its owner or its payment account is one of their addresses. */
export function ownsJob(addresses: UserAddresses, job: { owner: string; paymentAccount: string }): boolean {
  return addresses.all.has(job.owner.toLowerCase()) || addresses.all.has(job.paymentAccount.toLowerCase());
}
