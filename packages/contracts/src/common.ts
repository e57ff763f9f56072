import { z } from 'zod';

/** A DCP address as the services accept it: 0x and 20 bytes of hex, any case. */
export const address = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, 'a 0x-prefixed 20-byte hex DCP address')
  .meta({ description: 'DCP address (any case)', example: '0x52908400098527886e0f7030069857d2e4169ee7' });

/** A positive DCC amount as a decimal string with at most 9 decimals (1 DCC = 10^9 base units). */
export const decimalAmount = z
  .string()
  .regex(/^\d+(\.\d{1,9})?$/, 'a positive decimal DCC amount with at most 9 decimals')
  .meta({ description: 'DCC as a decimal string', example: '12.5' });

/** Every REST error answer: a DCP error code (DcpErrorCode of @dcp-emu/protocol) and a message. */
export const errorBody = z
  .object({
    error: z.object({ code: z.string().meta({ description: 'a DcpErrorCode' }), message: z.string() }),
  })
  .loose()
  .meta({ id: 'Error' });
