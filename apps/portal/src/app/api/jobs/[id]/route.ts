import { requireSession } from '@/server/auth';
import { fromResult } from '@/server/http';
import { jobPage } from '@/server/jobs/jobs.usecase';

interface Context {
  params: Promise<{ id: string }>;
}

/** GET → {job, slices, events, trail, rate}; 404 ENOENT for jobs that are not the user's. */
export async function GET(request: Request, context: Context): Promise<Response> {
  const auth = await requireSession(request);
  if (!auth.ok) return auth.response;
  const id = (await context.params).id;
  return fromResult(await jobPage(auth.portal, auth.session.userId, id, new Date(auth.portal.clock.now())));
}
