import { DcpError, DcpErrorCode } from '@dcp-emu/protocol';
import type { z } from 'zod';

// The REST API's schemas are contracts shared with its callers: @dcp-emu/contracts (bank.ts).

/** Parses input with a schema; EINVAL listing every problem otherwise. */
export function parseInput<T extends z.ZodType>(schema: T, input: unknown, what: string): z.output<T> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.join('.') || what}: ${i.message}`);
  throw new DcpError(DcpErrorCode.EINVAL, `invalid ${what}: ${problems.join('; ')}`, { problems });
}
