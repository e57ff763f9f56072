import { z } from 'zod';

/**
 * DCP's evaluator line protocol (dcp-worker-protocol.md §5.2): newline-terminated UTF-8 lines.
 * Supervisor → evaluator lines are JSON envelopes; evaluator → supervisor lines carry a prefix
 * (`MSG:`, `DIE:`, `LOG:`).
 */

/** Supervisor → evaluator envelopes. `message` is a KVIN-marshalled object, kept opaque here. */
export const inboundEnvelope = z.discriminatedUnion('type', [
  z.object({ type: z.literal('workerMessage'), message: z.record(z.string(), z.unknown()) }),
  z.object({ type: z.literal('die') }),
  z.object({ type: z.literal('newSerializer'), payload: z.string() }),
]);
export type InboundEnvelope = z.infer<typeof inboundEnvelope>;

export type ParsedLine =
  | { ok: true; envelope: InboundEnvelope }
  | { ok: false; origin: string | undefined; error: { name: string; message: string } };

/** Parses one inbound line (without its newline) into an envelope or a framing error. */
export function parseLine(line: string): ParsedLine {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (e) {
    return { ok: false, origin: undefined, error: { name: 'SyntaxError', message: (e as Error).message } };
  }
  const parsed = inboundEnvelope.safeParse(raw);
  if (parsed.success) return { ok: true, envelope: parsed.data };
  const type = raw !== null && typeof raw === 'object' ? (raw as { type?: unknown }).type : undefined;
  const origin = typeof type === 'string' ? type : undefined;
  const message =
    typeof type === 'string' && !['workerMessage', 'die', 'newSerializer'].includes(type)
      ? `Invalid message type '${type}'`
      : `Invalid ${origin ?? 'message'} envelope: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`;
  return { ok: false, origin, error: { name: 'Error', message } };
}

/** `MSG:` line acknowledging (or refusing) one inbound line, as sa-ww-simulation does. */
export function resultLine(
  success: boolean,
  origin: string | undefined,
  exception?: { name: string; message: string },
): string {
  const out: Record<string, unknown> = { type: 'result', step: origin ?? 'parseMessage', success, origin };
  if (exception) out.exception = { ...exception, stack: `${exception.name}: ${exception.message}` };
  return `MSG:${JSON.stringify(out)}`;
}

/** `DIE:` line: the sandbox is going away; the supervisor closes its socket on it. */
export function dieLine(reason: string): string {
  return `DIE: ${reason.replace(/[\r\n]+/g, ' ')}`;
}

export class LineTooLongError extends Error {
  constructor(readonly limit: number) {
    super(`protocol line longer than ${limit} bytes`);
    this.name = 'LineTooLongError';
  }
}

/** Splits a byte stream into lines; a line above `maxBytes` throws LineTooLongError. */
export class LineReader {
  private chunks: Buffer[] = [];
  private pending = 0;

  constructor(private readonly maxBytes: number) {}

  push(data: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    for (;;) {
      const nl = data.indexOf(10, start);
      if (nl < 0) break;
      const piece = data.subarray(start, nl);
      if (this.pending + piece.length > this.maxBytes) throw new LineTooLongError(this.maxBytes);
      this.chunks.push(piece);
      let line = Buffer.concat(this.chunks).toString('utf8');
      if (line.endsWith('\r')) line = line.slice(0, -1);
      this.chunks = [];
      this.pending = 0;
      if (line.length > 0) lines.push(line);
      start = nl + 1;
    }
    const rest = data.subarray(start);
    if (rest.length) {
      if (this.pending + rest.length > this.maxBytes) throw new LineTooLongError(this.maxBytes);
      this.chunks.push(Buffer.from(rest));
      this.pending += rest.length;
    }
    return lines;
  }
}
