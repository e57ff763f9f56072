/**
 * A request received by a session: its payload checked (operation, data or jsonData), and the
 * IncomingRequest handed to the application, which answers it exactly once.
 */
import { DcpError, DcpErrorCode } from './errors';
import { requestPayloadSchema } from './messages';
import type { Logger } from './ports';
import type { DcpSession } from './session';
import type { IncomingRequest } from './session-types';

/** A request payload → its operation, data (jsonData parsed) and validity stamp; a DcpError if malformed. */
export function parseRequestPayload(
  rawPayload: unknown,
): { operation: string; data: unknown; validity: unknown } | DcpError {
  const parsed = requestPayloadSchema.safeParse(rawPayload);
  if (!parsed.success) return new DcpError(DcpErrorCode.EINVAL, 'malformed request payload');
  let data: unknown = parsed.data.data;
  if (typeof parsed.data.jsonData === 'string' && parsed.data.jsonData) {
    try {
      data = JSON.parse(parsed.data.jsonData);
    } catch {
      return new DcpError(DcpErrorCode.EINVAL, 'malformed message payload.jsonData');
    }
  }
  return { operation: parsed.data.operation, data, validity: parsed.data.validity };
}

/**
 * The request as the application sees it. `send(payload, success)` queues the response; it is
 * called at most once, and not at all once the session has closed.
 */
export function incomingRequest(r: {
  id: string;
  operation: string;
  data: unknown;
  rawPayload: unknown;
  auth: Record<string, unknown> | undefined;
  authorized: string[];
  session: DcpSession;
  logger: Logger;
  send: (payload: unknown, success: boolean) => void;
}): IncomingRequest {
  let answered = false;
  const answer = (payload: unknown, success: boolean) => {
    if (answered) return;
    answered = true;
    if (r.session.state === 'closed') return; // while closing, answers still go out before the close
    r.send(payload, success);
  };
  return {
    id: r.id,
    operation: r.operation,
    data: r.data,
    rawPayload: r.rawPayload,
    ...(r.auth ? { auth: r.auth } : {}),
    authorized: r.authorized,
    session: r.session,
    get answered() {
      return answered;
    },
    respond: (payload) => answer(payload, true),
    fail: (error) => {
      if (!(error instanceof DcpError))
        r.logger.error({ err: error, operation: r.operation }, 'DCP request handler failed');
      answer(DcpError.payloadOf(error, r.session.identity.address), false);
    },
  };
}
