import { address, type BankAnswer, bridgeHistoryQuery, bridgeRequest } from '@dcp-emu/contracts';
import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, UseFilters } from '@nestjs/common';
import { DcpErrorFilter } from '../api/error.filter';
import { parseInput } from '../api/schemas';
import type { Bridge } from './bridge';
import { bridgeAccountJson, chainTransactionJson, receiptJson } from './views';

/** Injection token of the bank's `Bridge` (see `BridgeModule`). */
export const BRIDGE = Symbol('BRIDGE');

/** The emulated blockchain bridge's REST API under `/api/bridge`. */
@Controller('api/bridge')
@UseFilters(DcpErrorFilter)
export class BridgeController {
  constructor(@Inject(BRIDGE) private readonly bridge: Bridge) {}

  @Get('accounts/:address')
  async account(@Param('address') raw: string): Promise<BankAnswer<'BridgeAccount'>> {
    return bridgeAccountJson(await this.bridge.account.execute(parseInput(address, raw, 'address')));
  }

  @Get('accounts/:address/transactions')
  async transactions(
    @Param('address') raw: string,
    @Query() query: unknown,
  ): Promise<BankAnswer<'ChainTransactions'>> {
    const q = parseInput(bridgeHistoryQuery, query, 'query');
    const list = await this.bridge.history.execute(parseInput(address, raw, 'address'), {
      ...(q.limit !== undefined ? { limit: q.limit } : {}),
      ...(q.offset !== undefined ? { offset: q.offset } : {}),
    });
    return { transactions: list.map(chainTransactionJson) };
  }

  @Post('withdrawals')
  @HttpCode(201)
  async withdraw(@Body() body: unknown): Promise<BankAnswer<'BridgeReceipt'>> {
    return receiptJson(await this.bridge.withdraw.execute(parseInput(bridgeRequest, body, 'withdrawal')));
  }

  @Post('deposits')
  @HttpCode(201)
  async deposit(@Body() body: unknown): Promise<BankAnswer<'BridgeReceipt'>> {
    return receiptJson(await this.bridge.deposit.execute(parseInput(bridgeRequest, body, 'deposit')));
  }
}
