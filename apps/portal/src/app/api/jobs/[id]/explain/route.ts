import { requireSession } from '../../../../../server/auth';
import { fromResult } from '../../../../../server/http';
import { explainJob } from '../../../../../server/jobs/jobs.usecase';

interface Context {
  params: Promise<{ id: string }>;
}

/** GET → why one of the user's jobs is not being computed (the scheduler's explanation). */
export async function GET(request: Request, context: Context): Promise<Response> {
  const auth = await requireSession(request);
  if (!auth.ok) return auth.response;
  return fromResult(await explainJob(auth.portal, auth.session.userId, (await context.params).id));
}
