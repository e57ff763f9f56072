import { HDNodeWallet, Mnemonic } from 'ethers';

/** Anvil's well-known development mnemonic: every dcp-emu gets the same dev accounts. Never use for value. */
export const DEV_MNEMONIC = 'test test test test test test test test test test test junk';

export interface DevAccount {
  index: number;
  /** checksummed 0x address */
  address: string;
  /** 0x-prefixed hex private key */
  privateKey: string;
}

/** Accounts `m/44'/60'/0'/0/i` of the mnemonic, i = 0…count-1 (account 0 is the default identity). */
export function devAccounts(count: number, mnemonic = DEV_MNEMONIC): DevAccount[] {
  const root = HDNodeWallet.fromSeed(Mnemonic.fromPhrase(mnemonic).computeSeed());
  return Array.from({ length: count }, (_, index) => {
    const node = root.derivePath(`m/44'/60'/0'/0/${index}`);
    return { index, address: node.address, privateKey: node.privateKey };
  });
}
