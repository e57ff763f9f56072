import { requireSession } from '@/server/auth';
import { fromResult } from '@/server/http';
import { listJobs } from '@/server/jobs/jobs.usecase';

/** GET → {jobs}: jobs owned by or paid from the user's keystores, newest first. */
export async function GET(request: Request): Promise<Response> {
  const auth = await requireSession(request);
  if (!auth.ok) return auth.response;
  return fromResult(await listJobs(auth.portal, auth.session.userId), (jobs) => ({ jobs }));
}
