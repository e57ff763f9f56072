import {
  address,
  type BankAnswer,
  bankOpenApi,
  faucetRequest,
  historyQuery,
  transferRequest,
} from '@dcp-emu/contracts';
import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req, UseFilters } from '@nestjs/common';
import { type AuthRequest, RestAuth } from '@dcp-emu/nest-kit';
import type { BankLedger } from '../accounts/bank-ledger';
import { parseAccountId } from '../ledger/account-id';
import { formatDcc, parseDcc } from '../ledger/amount';
import { LedgerErrors } from '../ledger/errors';
import type { HoldId } from '../ledger/journal';
import { holdView, transactionView } from '../ledger/views';
import { BANK_LEDGER } from '../ledger.module';
import { DcpErrorFilter } from './error.filter';
import { JobTrailUseCase } from './job-trail.usecase';
import { parseInput } from './schemas';
import { SignedTransferUseCase } from './signed-transfer';
import { accountJson, historyJson, trailJson } from './views';

/** The bank's REST API under `/api` (see `GET /api/openapi.json`). */
@Controller('api')
@UseFilters(DcpErrorFilter)
export class BankController {
  readonly #trail: JobTrailUseCase;
  readonly #signedTransfer: SignedTransferUseCase;

  constructor(
    @Inject(BANK_LEDGER) private readonly bank: BankLedger,
    @Inject(RestAuth) private readonly auth: RestAuth,
  ) {
    this.#trail = new JobTrailUseCase({ store: bank.store });
    this.#signedTransfer = new SignedTransferUseCase(bank.transfer);
  }

  @Get('openapi.json')
  openapi() {
    return bankOpenApi();
  }

  @Get('accounts/:address')
  async account(@Param('address') raw: string): Promise<BankAnswer<'Account'>> {
    const id = parseAccountId(parseInput(address, raw, 'address'));
    const balance = await this.bank.balance.execute(id);
    const holds = await this.bank.store.listHolds(id, 'open');
    return accountJson(balance, holds);
  }

  @Get('accounts/:address/history')
  async history(
    @Param('address') raw: string,
    @Query() query: unknown,
  ): Promise<BankAnswer<'AccountHistory'>> {
    const id = parseAccountId(parseInput(address, raw, 'address'));
    const q = parseInput(historyQuery, query, 'query');
    const h = await this.bank.history.execute(id, {
      ...(q.limit !== undefined ? { limit: q.limit } : {}),
      ...(q.before !== undefined ? { beforeSeq: q.before } : {}),
    });
    return historyJson(h);
  }

  @Get('faucet')
  async faucet(): Promise<BankAnswer<'FaucetStatus'>> {
    return {
      enabled: this.bank.mint.policy.enabled,
      maxPerMint: formatDcc(this.bank.mint.policy.maxPerMint),
      totalMinted: formatDcc(await this.bank.mint.totalMinted()),
    };
  }

  /**
   * The dev faucet: open to anyone who can connect while the bank listens on loopback (README's curl
   * flow); beyond loopback only with the admin token. `DCP_EMU_BANK_FAUCET=off` refuses it always.
   */
  @Post('faucet')
  @HttpCode(201)
  async mint(@Req() http: AuthRequest, @Body() body: unknown): Promise<BankAnswer<'MintResult'>> {
    if (!this.auth.loopback) this.auth.requireAdmin(http, 'the faucet (the bank listens beyond loopback)');
    const req = parseInput(faucetRequest, body, 'faucet request');
    const { transaction } = await this.bank.mint.execute({
      to: req.address,
      amount: parseDcc(req.amount),
      ...(req.memo !== undefined ? { memo: req.memo } : {}),
    });
    return { transaction: transactionView(transaction) };
  }

  @Get('holds/:id')
  async hold(@Param('id') id: string): Promise<BankAnswer<'Hold'>> {
    const hold = await this.bank.store.getHold(id as HoldId);
    if (!hold) throw LedgerErrors.noHold(id);
    return holdView(hold);
  }

  @Get('jobs/:job/trail')
  async trail(@Param('job') job: string): Promise<BankAnswer<'JobTrail'>> {
    return trailJson(await this.#trail.execute(job));
  }

  @Post('transfers')
  @HttpCode(201)
  async transfer(@Body() body: unknown): Promise<BankAnswer<'TransferResult'>> {
    const req = parseInput(transferRequest, body, 'transfer request');
    const { transaction, replayed } = await this.#signedTransfer.execute(
      { from: req.from, to: req.to, amount: req.amount, nonce: req.nonce },
      req.signature,
    );
    return { transaction: transactionView(transaction), replayed };
  }
}
