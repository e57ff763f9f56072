import { signIn } from '@/server/accounts/sign-in.usecase';
import { errorResponse, isHttps, json, readJsonBody, sessionCookie } from '@/server/http';
import { getPortal } from '@/server/portal';

/** POST {email, password} → 200 {user:{id,email}} and the session cookie; 401 EPERM when they do not match. */
export async function POST(request: Request): Promise<Response> {
  const body = await readJsonBody(request);
  if (!body.ok) return body.response;
  const portal = await getPortal();
  const result = await signIn(portal, body.body);
  if (!result.ok) return errorResponse(result.error);
  const { token, expiresAt, userId, email } = result.value;
  const secure = portal.config.secureCookies || isHttps(request);
  return json({ user: { id: userId, email } }, 200, {
    'set-cookie': sessionCookie(token, { secure, expires: expiresAt }),
  });
}
