import { DcpError, DcpErrorCode } from '@dcp-emu/protocol';
import { z } from 'zod';

/**
 * The REST API's zod schemas: request bodies and queries are parsed with them, and
 * `GET /api/openapi.json` is generated from them. Amounts travel as decimal DCC strings.
 */
export const address = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, 'a 0x-prefixed 20-byte hex DCP address')
  .meta({ description: 'DCP address (any case)', example: '0x52908400098527886e0f7030069857d2e4169ee7' });

export const decimalAmount = z
  .string()
  .regex(/^\d+(\.\d{1,9})?$/, 'a positive decimal DCC amount with at most 9 decimals')
  .meta({ description: 'DCC as a decimal string', example: '12.5' });

const wireSignature = z
  .object({
    r: z.union([z.string(), z.object({ type: z.literal('Buffer'), data: z.array(z.number().int()) })]),
    s: z.union([z.string(), z.object({ type: z.literal('Buffer'), data: z.array(z.number().int()) })]),
    v: z.number().int(),
  })
  .meta({ description: 'DCP wire signature {r, s, v}' });

export const signature = z
  .union([z.string().regex(/^0x[0-9a-fA-F]{130}$/, '65-byte hex signature (r‖s‖v)'), wireSignature])
  .meta({ description: 'EIP-191 personal signature by `from` over the canonical transfer message' });

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

/** Every named schema of the API, for `components.schemas` of the OpenAPI document. */
export const apiSchemas = (): Record<string, z.ZodType> => ({
  FaucetRequest: faucetRequest,
  TransferRequest: transferRequest,
  Error: errorBody,
  Transaction: transactionView,
  Hold: holdView,
  Account: accountView,
  AccountHistory: historyView,
  TransferResult: transferResult,
  FaucetStatus: faucetTotal,
  MintResult: mintResult,
  JobTrail: jobTrail,
});

export const historyQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(1000).optional(),
    before: z.coerce.number().int().min(1).optional(),
  })
  .strict();

export const errorBody = z
  .object({ error: z.object({ code: z.string(), message: z.string() }) })
  .meta({ id: 'Error' });

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
  .object({
    address: z.string(),
    balance: z.string(),
    held: z.string(),
    openHolds: z.array(holdView),
  })
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

export const faucetTotal = z
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
    steps: z.array(
      z.object({
        kind: z.enum(['escrow', 'payment', 'refund']),
        transaction: transactionView,
      }),
    ),
  })
  .meta({ id: 'JobTrail' });

/** Parses input with a schema; EINVAL listing every problem otherwise. */
export function parseInput<T extends z.ZodType>(schema: T, input: unknown, what: string): z.output<T> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.join('.') || what}: ${i.message}`);
  throw new DcpError(DcpErrorCode.EINVAL, `invalid ${what}: ${problems.join('; ')}`, { problems });
}
