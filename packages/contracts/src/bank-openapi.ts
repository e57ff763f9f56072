import { z } from 'zod';
import {
  BANK_MESSAGE_TYPES,
  bankApiSchemas,
  bankRequestSchemas,
  bridgeHistoryQuery,
  bridgeRequest,
  faucetRequest,
  historyQuery,
  transferRequest,
} from './bank';
import { address } from './common';
import { openApiDocument } from './openapi';

const s = bankApiSchemas;
const addressParam = { address: { schema: address, description: 'DCP address' } };

let cached: Record<string, unknown> | undefined;

/** OpenAPI 3.1 of the bank's REST API (`GET /api/openapi.json`), generated from the contracts. */
export function bankOpenApi(): Record<string, unknown> {
  cached ??= openApiDocument({
    title: 'dcp-emu bank',
    version: '0.1.0',
    description:
      'DCC ledger of the DCP emulator. Amounts are decimal DCC strings (1 DCC = 10^9 base units). ' +
      `Transfers are signed by the source account: EIP-191 personal_sign over JSON.stringify({type:'${BANK_MESSAGE_TYPES.transfer}', from, to, amount, nonce}) ` +
      'with the body values; the nonce makes a retry replay instead of paying twice. ' +
      'The blockchain bridge under /api/bridge is EMULATED: its chain is a second ledger inside the bank ' +
      '(no real Ethereum network), with keccak-256 transaction hashes and block numbers.',
    schemas: s,
    requests: bankRequestSchemas,
    routes: [
      {
        method: 'get',
        path: '/api/accounts/{address}',
        summary: 'Balance, held funds and open holds of an account',
        params: addressParam,
        responses: { 200: { description: 'the account', schema: s.Account } },
        errors: [400, 404],
      },
      {
        method: 'get',
        path: '/api/accounts/{address}/history',
        summary: 'Journal transactions touching the account, newest first',
        params: addressParam,
        query: historyQuery,
        responses: { 200: { description: 'a page (`before`: only seq below it)', schema: s.AccountHistory } },
        errors: [400, 404],
      },
      {
        method: 'get',
        path: '/api/faucet',
        summary: 'Faucet policy and the total minted',
        responses: { 200: { description: 'faucet', schema: s.FaucetStatus } },
      },
      {
        method: 'post',
        path: '/api/faucet',
        summary: 'Mint DCC into an account (dev faucet; 403 when off)',
        body: faucetRequest,
        responses: { 201: { description: 'minted', schema: s.MintResult } },
        errors: [400, 403],
      },
      {
        method: 'get',
        path: '/api/holds/{id}',
        summary: 'An escrow hold',
        params: { id: { schema: z.string(), description: 'hold id' } },
        responses: { 200: { description: 'the hold', schema: s.Hold } },
        errors: [404],
      },
      {
        method: 'get',
        path: '/api/jobs/{job}/trail',
        summary: "A job's money trail: escrow → payments and commission → refund",
        params: { job: { schema: z.string(), description: 'job id' } },
        responses: { 200: { description: 'the trail', schema: s.JobTrail } },
        errors: [400, 404],
      },
      {
        method: 'post',
        path: '/api/transfers',
        summary: 'Transfer DCC, authorized by the source account signature',
        body: transferRequest,
        responses: { 201: { description: 'transferred (or replayed)', schema: s.TransferResult } },
        errors: [400, 403, 404, 409],
      },
      {
        method: 'get',
        path: '/api/bridge/accounts/{address}',
        summary: 'Bridge (emulated chain): an address’s chain balance and bank balance (zeros if never seen)',
        params: addressParam,
        responses: { 200: { description: 'both balances', schema: s.BridgeAccount } },
        errors: [400],
      },
      {
        method: 'get',
        path: '/api/bridge/accounts/{address}/transactions',
        summary: 'Bridge (emulated chain): the address’s deposits and withdrawals, newest first',
        params: addressParam,
        query: bridgeHistoryQuery,
        responses: { 200: { description: 'a page', schema: s.ChainTransactions } },
        errors: [400],
      },
      {
        method: 'post',
        path: '/api/bridge/withdrawals',
        summary: `Bridge (emulated chain): bank → chain, signed by the address over type '${BANK_MESSAGE_TYPES.withdrawal}'`,
        body: bridgeRequest,
        responses: {
          201: {
            description: 'moved (or the same answer again for a repeated request)',
            schema: s.BridgeReceipt,
          },
        },
        errors: [400, 403, 404, 409],
      },
      {
        method: 'post',
        path: '/api/bridge/deposits',
        summary: `Bridge (emulated chain): chain → bank, signed by the address over type '${BANK_MESSAGE_TYPES.deposit}'`,
        body: bridgeRequest,
        responses: {
          201: {
            description: 'moved (or the same answer again for a repeated request)',
            schema: s.BridgeReceipt,
          },
        },
        errors: [400, 403, 404, 409],
      },
    ],
  });
  return cached;
}
