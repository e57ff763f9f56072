import { changePassword } from '@/server/accounts/change-password.usecase';
import { requireSession } from '@/server/auth';
import { fromResult, readJsonBody } from '@/server/http';

/** POST {currentPassword, newPassword} → 200 {changed:true, endedSessions}; other sessions are signed out. */
export async function POST(request: Request): Promise<Response> {
  const auth = await requireSession(request);
  if (!auth.ok) return auth.response;
  const body = await readJsonBody(request);
  if (!body.ok) return body.response;
  const result = await changePassword(auth.portal, auth.session, body.body);
  return fromResult(result, (v) => ({ changed: true, endedSessions: v.endedSessions }));
}
