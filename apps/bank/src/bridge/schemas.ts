import { z } from 'zod';
import { address } from '../api/schemas';
import { MAX_CHAIN_HISTORY_LIMIT } from './bridge-store';
import { BRIDGE_MESSAGE_TYPES } from './chain';

/**
 * The bridge's REST schemas (`/api/bridge/…`): bodies and queries are parsed with them and the
 * OpenAPI document is generated from them. Amounts leave as decimal DCC strings.
 */
const dccOut = z.string().meta({ description: 'DCC as an exact decimal string', example: '12.5' });

export const bridgeRequest = z
  .object({
    address,
    amount: z.union([z.string().max(80), z.number()]).meta({
      description: 'DCC to move, > 0, at most 9 decimals: a decimal string (preferred) or a JSON number',
    }),
    nonce: z.union([z.string(), z.number()]).meta({
      description:
        'unique per movement of this address: 1–128 characters of [A-Za-z0-9._:-] or an integer ≥ 0; ' +
        'the same request again replays, the nonce reused for other values is 409 EDUP',
    }),
    signature: z.string().meta({
      description:
        `EIP-191 personal signature (ethers signMessage) by \`address\` over JSON.stringify({type, address, amount, nonce}) ` +
        `with the body values, type '${BRIDGE_MESSAGE_TYPES.withdrawal}' or '${BRIDGE_MESSAGE_TYPES.deposit}'; 0x + 65 bytes hex`,
    }),
  })
  .strict()
  .meta({ id: 'BridgeRequest' });

export const bridgeHistoryQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(MAX_CHAIN_HISTORY_LIMIT).optional(),
    offset: z.coerce.number().int().min(0).optional(),
  })
  .strict();

export const bridgeAccountView = z
  .object({ address: z.string(), chainBalance: dccOut, bankBalance: dccOut })
  .meta({ id: 'BridgeAccount' });

const chainTransactionFields = {
  hash: z.string().meta({ description: 'keccak-256 of the canonical transaction, 0x + 64 hex' }),
  kind: z.enum(['deposit', 'withdrawal']),
  address: z.string(),
  amount: dccOut,
  blockNumber: z.number().int(),
  at: z.string().meta({ description: 'ISO-8601 time of the block' }),
};

export const chainTransactionView = z.object(chainTransactionFields).meta({ id: 'ChainTransaction' });

export const chainHistoryView = z
  .object({ transactions: z.array(chainTransactionView) })
  .meta({ id: 'ChainTransactions' });

export const bridgeReceiptView = z
  .object({ ...chainTransactionFields, bankBalance: dccOut, chainBalance: dccOut })
  .meta({ id: 'BridgeReceipt' });

/** Every named bridge schema, for `components.schemas` of the OpenAPI document. */
export const bridgeApiSchemas = (): Record<string, z.ZodType> => ({
  BridgeRequest: bridgeRequest,
  BridgeAccount: bridgeAccountView,
  ChainTransaction: chainTransactionView,
  ChainTransactions: chainHistoryView,
  BridgeReceipt: bridgeReceiptView,
});
