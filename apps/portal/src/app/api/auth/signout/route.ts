import { DcpErrorCode } from '@dcp-emu/protocol';
import {
  clearedSessionCookie,
  errorResponse,
  isHttps,
  isSameOrigin,
  json,
  sessionTokenOf,
} from '@/server/http';
import { getPortal } from '@/server/portal';
import { endSession } from '@/server/sessions/sessions';

/** POST → 200 {signedOut:true}; ends the session (if any) and clears the cookie. */
export async function POST(request: Request): Promise<Response> {
  if (!isSameOrigin(request))
    return errorResponse({ code: DcpErrorCode.EPERM, message: 'cross-site requests are not accepted' });
  const portal = await getPortal();
  await endSession(portal, sessionTokenOf(request));
  const secure = portal.config.secureCookies || isHttps(request);
  return json({ signedOut: true }, 200, { 'set-cookie': clearedSessionCookie({ secure }) });
}
