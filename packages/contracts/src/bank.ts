import { z } from 'zod';
import { address, decimalAmount, errorBody } from './common';

/**
 * The bank's REST API (`/api/…`, `/api/bridge/…`): the bank parses bodies and queries with these
 * schemas, its handlers are typed by the response schemas, the portal checks the answers with them,
 * and `GET /api/openapi.json` is generated from them (bankOpenApi).
 */

/** The `type` of each signed message the bank accepts (EIP-191 personal_sign over canonical JSON). */
export const BANK_MESSAGE_TYPES = {
  transfer: 'dcp-emu/bank/transfer@1',
  withdrawal: 'dcp-emu/bank/withdraw@1',
  deposit: 'dcp-emu/bank/deposit@1',
} as const;

/** The most entries one page of an address's chain transactions may hold. */
export const MAX_CHAIN_HISTORY_LIMIT = 1000;

const bufferLike = z.object({ type: z.literal('Buffer'), data: z.array(z.number().int()) });
const wireSignature = z
  .object({ r: z.union([z.string(), bufferLike]), s: z.union([z.string(), bufferLike]), v: z.number().int() })
  .meta({ description: 'DCP wire signature {r, s, v}' });

export const signature = z
  .union([z.string().regex(/^0x[0-9a-fA-F]{130}$/, '65-byte hex signature (r‖s‖v)'), wireSignature])
  .meta({ description: 'EIP-191 personal signature by `from` over the canonical transfer message' });

// ---- requests ----

export const faucetRequest = z
  .object({ address, amount: decimalAmount, memo: z.string().min(1).max(256).optional() })
  .strict()
  .meta({ id: 'FaucetRequest' });

export const transferRequest = z
  .object({
    from: address,
    to: address,
    amount: decimalAmount,
    nonce: z
      .string()
      .regex(/^[A-Za-z0-9._:-]{8,128}$/, '8..128 characters of [A-Za-z0-9._:-]')
      .meta({ description: 'unique per transfer of `from`; a repeated nonce replays, never pays twice' }),
    signature,
  })
  .strict()
  .meta({ id: 'TransferRequest' });

export const historyQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(1000).optional(),
    before: z.coerce.number().int().min(1).optional(),
  })
  .strict();

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
        'EIP-191 personal signature (ethers signMessage) by `address` over JSON.stringify({type, address, amount, nonce}) ' +
        `with the body values, type '${BANK_MESSAGE_TYPES.withdrawal}' or '${BANK_MESSAGE_TYPES.deposit}'; 0x + 65 bytes hex`,
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

// ---- answers ----

const dccOut = z.string().meta({ description: 'DCC as an exact decimal string', example: '12.5' });

const posting = z.object({ book: z.string(), amount: z.string() });
const refs = z.object({
  job: z.string().optional(),
  slice: z.number().int().optional(),
  worker: z.string().optional(),
  hold: z.string().optional(),
  memo: z.string().optional(),
});

export const transactionView = z
  .object({
    id: z.string(),
    seq: z.number().int(),
    reason: z.enum(['mint', 'transfer', 'hold', 'hold-increase', 'capture', 'release']),
    refs,
    postings: z.array(posting),
    createdAt: z.string(),
  })
  .meta({ id: 'Transaction' });

export const holdView = z
  .object({
    id: z.string(),
    account: z.string(),
    status: z.enum(['open', 'released']),
    held: z.string(),
    captured: z.string(),
    released: z.string(),
    remaining: z.string(),
    refs,
    createdAt: z.string(),
    closedAt: z.string().nullable(),
  })
  .meta({ id: 'Hold' });

export const accountView = z
  .object({ address: z.string(), balance: z.string(), held: z.string(), openHolds: z.array(holdView) })
  .meta({ id: 'Account' });

export const historyView = z
  .object({
    address: z.string(),
    entries: z.array(z.object({ delta: z.string(), transaction: transactionView })),
    nextBefore: z.number().int().optional(),
  })
  .meta({ id: 'AccountHistory' });

export const transferResult = z
  .object({ transaction: transactionView, replayed: z.boolean() })
  .meta({ id: 'TransferResult' });

export const faucetStatus = z
  .object({ enabled: z.boolean(), maxPerMint: z.string(), totalMinted: z.string() })
  .meta({ id: 'FaucetStatus' });

export const mintResult = z.object({ transaction: transactionView }).meta({ id: 'MintResult' });

export const jobTrail = z
  .object({
    job: z.string(),
    escrowed: z.string(),
    paid: z.string(),
    commission: z.string(),
    refunded: z.string(),
    holds: z.array(holdView),
    steps: z.array(z.object({ kind: z.enum(['escrow', 'payment', 'refund']), transaction: transactionView })),
  })
  .meta({ id: 'JobTrail' });

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

/** Every named schema of the bank's REST API, for `components.schemas` of its OpenAPI document. */
export const bankApiSchemas = {
  Error: errorBody,
  Transaction: transactionView,
  Hold: holdView,
  Account: accountView,
  AccountHistory: historyView,
  TransferResult: transferResult,
  FaucetStatus: faucetStatus,
  MintResult: mintResult,
  JobTrail: jobTrail,
  BridgeAccount: bridgeAccountView,
  ChainTransaction: chainTransactionView,
  ChainTransactions: chainHistoryView,
  BridgeReceipt: bridgeReceiptView,
} satisfies Record<string, z.ZodType>;

/** Every named request body of the bank's REST API (components.schemas, as accepted). */
export const bankRequestSchemas = {
  FaucetRequest: faucetRequest,
  TransferRequest: transferRequest,
  BridgeRequest: bridgeRequest,
} satisfies Record<string, z.ZodType>;

/** What a bank route answers (the server returns `BankAnswer<'Account'>`, the portal reads its output). */
export type BankAnswer<K extends keyof typeof bankApiSchemas> = z.input<(typeof bankApiSchemas)[K]>;
