import { DcpErrorCode } from '@dcp-emu/protocol';
import { cookies } from 'next/headers';
import { errorResponse, sessionTokenOf } from './http';
import { getPortal, type Portal } from './portal';
import { type ActiveSession, resolveSession, SESSION_COOKIE } from './sessions/sessions';

/** The signed-in user of an API request, or a 401 response telling the caller to sign in. */
export async function requireSession(
  request: Request,
): Promise<{ ok: true; portal: Portal; session: ActiveSession } | { ok: false; response: Response }> {
  const portal = await getPortal();
  const session = await resolveSession(portal, sessionTokenOf(request));
  if (!session) {
    return {
      ok: false,
      response: errorResponse({
        code: DcpErrorCode.ENOSESSION,
        message: 'you are not signed in; sign in and try again',
      }),
    };
  }
  return { ok: true, portal, session };
}

/** The signed-in user of a page render (server components), or null. */
export async function currentSession(): Promise<ActiveSession | null> {
  const token = (await cookies()).get(SESSION_COOKIE)?.value;
  if (!token) return null;
  return resolveSession(await getPortal(), token);
}
