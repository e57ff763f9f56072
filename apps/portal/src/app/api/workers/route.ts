import { requireSession } from '@/server/auth';
import { fromResult } from '@/server/http';
import { workersPage } from '@/server/workers/workers.usecase';

/** GET → {workers, earnings}: workers computing now (others' jobs unnamed) and the user's earnings. */
export async function GET(request: Request): Promise<Response> {
  const auth = await requireSession(request);
  if (!auth.ok) return auth.response;
  return fromResult(await workersPage(auth.portal, auth.session.userId));
}
