import { requireSession } from '@/server/auth';
import { json } from '@/server/http';

/** GET → {user:{id,email}, expiresAt} for the signed-in user, 401 ENOSESSION otherwise. */
export async function GET(request: Request): Promise<Response> {
  const auth = await requireSession(request);
  if (!auth.ok) return auth.response;
  const { userId, email, expiresAt } = auth.session;
  return json({ user: { id: userId, email }, expiresAt: expiresAt.toISOString() });
}
