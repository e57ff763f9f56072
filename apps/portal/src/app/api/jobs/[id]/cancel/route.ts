import { requireSession } from '@/server/auth';
import { fromResult, readJsonBody } from '@/server/http';
import { cancelJob } from '@/server/jobs/jobs.usecase';

interface Context {
  params: Promise<{ id: string }>;
}

/** POST {} → {cancelled}; 404 for others' jobs, 409 EJOBSTATE when the job is not running. */
export async function POST(request: Request, context: Context): Promise<Response> {
  const auth = await requireSession(request);
  if (!auth.ok) return auth.response;
  const body = await readJsonBody(request);
  if (!body.ok) return body.response;
  return fromResult(await cancelJob(auth.portal, auth.session.userId, (await context.params).id));
}
