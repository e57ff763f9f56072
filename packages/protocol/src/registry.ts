import type { z } from 'zod';
import { sameAddress } from './crypto/port';
import { DcpError, DcpErrorCode } from './errors';
import type { Generation } from './messages';
import type { Logger } from './ports';
import type { DcpSession, IncomingRequest } from './session';

/** What an operation handler learns about the request besides its data. */
export interface OperationContext {
  /** the connection peer: the client's identity address (checksummed as it signed) */
  readonly peer: string;
  /** the session the request came on: push requests to the client, observe close, … */
  readonly session: DcpSession;
  /** service name, e.g. 'jobSubmit' */
  readonly service: string;
  /** dcp-client generation of the peer: 4 or 5 */
  readonly generation: Generation;
  /** operation name as sent, e.g. 'submit@5' */
  readonly operation: string;
  /** lower-case resource addresses whose allow/auth authorization of this request verified */
  readonly authorized: readonly string[];
  /** true when `address` validly authorized this request (allow entry + auth signature) */
  isAuthorizedBy(address: string): boolean;
  /** the request as received (raw payload, id) */
  readonly request: IncomingRequest;
  readonly logger: Logger;
}

export interface OperationDefinition<S extends z.ZodType = z.ZodType> {
  /** operation name(s), with their `@N` version suffix when the client uses one ('submit@5') */
  operation: string | readonly string[];
  /** zod schema of the request data */
  schema: S;
  /** returns the response payload; throw a DcpError for an error response */
  handler: (data: z.output<S>, ctx: OperationContext) => unknown | Promise<unknown>;
}

/** The operations one service answers, with their schemas; dispatches requests to handlers. */
export class OperationRegistry {
  readonly #ops = new Map<string, OperationDefinition>();

  register<S extends z.ZodType>(definition: OperationDefinition<S>): this {
    const names = typeof definition.operation === 'string' ? [definition.operation] : definition.operation;
    for (const name of names) {
      if (this.#ops.has(name)) throw new Error(`operation ${name} is already registered`);
      this.#ops.set(name, definition as unknown as OperationDefinition);
    }
    return this;
  }

  has(operation: string): boolean {
    return this.#ops.has(operation);
  }

  operations(): string[] {
    return [...this.#ops.keys()];
  }

  /**
   * Answer `request` exactly once: unknown operation → ENOTSUP, invalid data → EINVAL, handler
   * DcpError → its code, anything else thrown → EINTERNAL (logged).
   */
  async dispatch(
    request: IncomingRequest,
    base: Omit<OperationContext, 'request' | 'operation' | 'authorized' | 'isAuthorizedBy'>,
  ): Promise<void> {
    const def = this.#ops.get(request.operation);
    if (!def) {
      request.fail(new DcpError(DcpErrorCode.ENOTSUP, `unknown operation '${request.operation}'`));
      return;
    }
    const parsed = def.schema.safeParse(request.data);
    if (!parsed.success) {
      const detail = parsed.error.issues
        .slice(0, 5)
        .map((i) => `${i.path.join('.') || '(data)'}: ${i.message}`)
        .join('; ');
      request.fail(new DcpError(DcpErrorCode.EINVAL, `invalid ${request.operation} request: ${detail}`));
      return;
    }
    const ctx: OperationContext = {
      ...base,
      request,
      operation: request.operation,
      authorized: request.authorized,
      isAuthorizedBy: (address) => request.authorized.some((a) => sameAddress(a, address)),
    };
    try {
      const result = await def.handler(parsed.data, ctx);
      if (!request.answered) request.respond(result ?? null);
    } catch (error) {
      if (!(error instanceof DcpError))
        base.logger.error(
          { err: error, operation: request.operation, service: base.service },
          'handler failed',
        );
      request.fail(
        error instanceof DcpError ? error : new DcpError(DcpErrorCode.EINTERNAL, 'internal error'),
      );
    }
  }
}
