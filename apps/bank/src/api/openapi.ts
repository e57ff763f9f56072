import { z } from 'zod';
import { BRIDGE_MESSAGE_TYPES } from '../bridge/chain';
import {
  bridgeAccountView,
  bridgeApiSchemas,
  bridgeReceiptView,
  bridgeRequest,
  chainHistoryView,
} from '../bridge/schemas';
import {
  accountView,
  address,
  errorBody,
  faucetRequest,
  faucetTotal,
  historyView,
  holdView,
  apiSchemas,
  jobTrail,
  mintResult,
  transferRequest,
  transferResult,
} from './schemas';
import { TRANSFER_MESSAGE_TYPE } from './signed-transfer';

/** The bank's named schemas plus the bridge's (`/api/bridge`). */
const allSchemas = (): Record<string, z.ZodType> => ({ ...apiSchemas(), ...bridgeApiSchemas() });

type Schema = z.ZodType;

/** Named schemas (`.meta({id})`) go to `components.schemas` and are referenced from the paths. */
function components(): Record<string, unknown> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(allSchemas())) registry.add(schema, { id });
  const out = z.toJSONSchema(registry, {
    io: 'input',
    target: 'draft-2020-12',
    uri: (id) => `#/components/schemas/${id}`,
  }) as { schemas: Record<string, Record<string, unknown>> };
  for (const schema of Object.values(out.schemas)) {
    delete schema.$id;
    delete schema.$schema;
  }
  return out.schemas;
}

const ref = (schema: Schema) => {
  const id = Object.entries(allSchemas()).find(([, s]) => s === schema)?.[0];
  if (!id) throw new Error('openapi: response and body schemas must be named in apiSchemas()');
  return { $ref: `#/components/schemas/${id}` };
};

const json = (schema: Schema) => ({ content: { 'application/json': { schema: ref(schema) } } });

const errors = (...codes: number[]) =>
  Object.fromEntries(codes.map((c) => [String(c), { description: 'DCP error', ...json(errorBody) }]));

const pathParam = (name: string, schema: Schema, description: string) => ({
  name,
  in: 'path',
  required: true,
  description,
  schema: z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12' }),
});

let cached: Record<string, unknown> | undefined;

/** OpenAPI 3.1 of the REST API, generated from the same zod schemas the handlers parse with. */
export function openApiDocument(): Record<string, unknown> {
  cached ??= {
    openapi: '3.1.0',
    info: {
      title: 'dcp-emu bank',
      version: '0.1.0',
      description:
        'DCC ledger of the DCP emulator. Amounts are decimal DCC strings (1 DCC = 10^9 base units). ' +
        `Transfers are signed by the source account: EIP-191 personal_sign over JSON.stringify({type:'${TRANSFER_MESSAGE_TYPE}', from, to, amount, nonce}) ` +
        'with the body values; the nonce makes a retry replay instead of paying twice. ' +
        'The blockchain bridge under /api/bridge is EMULATED: its chain is a second ledger inside the bank ' +
        '(no real Ethereum network), with keccak-256 transaction hashes and block numbers.',
    },
    components: { schemas: components() },
    paths: {
      '/api/accounts/{address}': {
        get: {
          summary: 'Balance, held funds and open holds of an account',
          parameters: [pathParam('address', address, 'DCP address')],
          responses: { '200': { description: 'the account', ...json(accountView) }, ...errors(400, 404) },
        },
      },
      '/api/accounts/{address}/history': {
        get: {
          summary: 'Journal transactions touching the account, newest first',
          parameters: [
            pathParam('address', address, 'DCP address'),
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000 } },
            {
              name: 'before',
              in: 'query',
              description: 'page: only seq below this',
              schema: { type: 'integer' },
            },
          ],
          responses: { '200': { description: 'a page', ...json(historyView) }, ...errors(400, 404) },
        },
      },
      '/api/faucet': {
        get: {
          summary: 'Faucet policy and the total minted',
          responses: { '200': { description: 'faucet', ...json(faucetTotal) } },
        },
        post: {
          summary: 'Mint DCC into an account (dev faucet; 403 when off)',
          requestBody: { required: true, ...json(faucetRequest) },
          responses: {
            '201': { description: 'minted', ...json(mintResult) },
            ...errors(400, 403),
          },
        },
      },
      '/api/holds/{id}': {
        get: {
          summary: 'An escrow hold',
          parameters: [pathParam('id', z.string(), 'hold id')],
          responses: { '200': { description: 'the hold', ...json(holdView) }, ...errors(404) },
        },
      },
      '/api/jobs/{job}/trail': {
        get: {
          summary: "A job's money trail: escrow → payments and commission → refund",
          parameters: [pathParam('job', z.string(), 'job id')],
          responses: { '200': { description: 'the trail', ...json(jobTrail) }, ...errors(400, 404) },
        },
      },
      '/api/bridge/accounts/{address}': {
        get: {
          summary:
            'Bridge (emulated chain): an address’s chain balance and bank balance (zeros if never seen)',
          parameters: [pathParam('address', address, 'DCP address')],
          responses: { '200': { description: 'both balances', ...json(bridgeAccountView) }, ...errors(400) },
        },
      },
      '/api/bridge/accounts/{address}/transactions': {
        get: {
          summary: 'Bridge (emulated chain): the address’s deposits and withdrawals, newest first',
          parameters: [
            pathParam('address', address, 'DCP address'),
            {
              name: 'limit',
              in: 'query',
              schema: { type: 'integer', minimum: 1, maximum: 1000, default: 50 },
            },
            { name: 'offset', in: 'query', schema: { type: 'integer', minimum: 0, default: 0 } },
          ],
          responses: { '200': { description: 'a page', ...json(chainHistoryView) }, ...errors(400) },
        },
      },
      '/api/bridge/withdrawals': {
        post: {
          summary: `Bridge (emulated chain): bank → chain, signed by the address over type '${BRIDGE_MESSAGE_TYPES.withdrawal}'`,
          requestBody: { required: true, ...json(bridgeRequest) },
          responses: {
            '201': {
              description: 'moved (or the same answer again for a repeated request)',
              ...json(bridgeReceiptView),
            },
            ...errors(400, 403, 404, 409),
          },
        },
      },
      '/api/bridge/deposits': {
        post: {
          summary: `Bridge (emulated chain): chain → bank, signed by the address over type '${BRIDGE_MESSAGE_TYPES.deposit}'`,
          requestBody: { required: true, ...json(bridgeRequest) },
          responses: {
            '201': {
              description: 'moved (or the same answer again for a repeated request)',
              ...json(bridgeReceiptView),
            },
            ...errors(400, 403, 404, 409),
          },
        },
      },
      '/api/transfers': {
        post: {
          summary: 'Transfer DCC, authorized by the source account signature',
          requestBody: { required: true, ...json(transferRequest) },
          responses: {
            '201': { description: 'transferred (or replayed)', ...json(transferResult) },
            ...errors(400, 403, 404, 409),
          },
        },
      },
    },
  };
  return cached;
}
