import { DcpErrorCode } from '@dcp-emu/protocol';
import type { z } from 'zod';
import { fail, ok, type Result } from './result';

/** Parses an untrusted body with a zod schema; the first issue becomes an EINVAL naming its field. */
export function validate<S extends z.ZodType>(schema: S, input: unknown): Result<z.output<S>> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return ok(parsed.data);
  const issue = parsed.error.issues[0];
  const field = issue?.path.length ? issue.path.join('.') : undefined;
  return fail(DcpErrorCode.EINVAL, issue?.message ?? 'invalid request', field);
}
