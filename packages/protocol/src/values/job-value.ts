import { z } from 'zod';
import { DcpError, DcpErrorCode } from '../errors';
import type { Generation } from '../messages';
import { kvinFor, parseKvin } from './kvin';

/** DCP's job-value format (work function arguments, slice data): a serialized value with its method. */
export const jobValueSchema = z.object({
  string: z.string(),
  method: z.enum(['json', 'kvin']),
  MIMEType: z.string().optional(),
});
export type JobValue = z.infer<typeof jobValueSchema>;

export const MIME_TYPES = { json: 'application/json', kvin: 'application/x-kvin' } as const;

function jsonSafe(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'object':
      return value !== null && typeof (value as { toJSON?: unknown }).toJSON === 'function';
    default:
      return false;
  }
}

export const jobValue = {
  /** strings, booleans and toJSON objects as JSON; everything else KVIN of the peer's generation */
  encode(value: unknown, generation: Generation = 5): JobValue {
    if (jsonSafe(value)) return { string: JSON.stringify(value), method: 'json', MIMEType: MIME_TYPES.json };
    return { string: kvinFor(generation).serialize(value), method: 'kvin', MIMEType: MIME_TYPES.kvin };
  },
  decode(value: unknown): unknown {
    const parsed = jobValueSchema.safeParse(value);
    if (!parsed.success)
      throw new DcpError(DcpErrorCode.EINVAL, 'not a job value {string, method, MIMEType}');
    try {
      return parsed.data.method === 'json' ? JSON.parse(parsed.data.string) : parseKvin(parsed.data.string);
    } catch (error) {
      throw new DcpError(
        DcpErrorCode.EINVAL,
        `cannot decode ${parsed.data.method} job value: ${String(error)}`,
      );
    }
  },
};
