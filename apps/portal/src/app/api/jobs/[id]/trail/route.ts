import { requireSession } from '@/server/auth';
import { fromResult } from '@/server/http';
import { jobTrail } from '@/server/jobs/jobs.usecase';

interface Context {
  params: Promise<{ id: string }>;
}

/** GET → the bank's money trail of one of the user's jobs (escrow → payments → commission → refund). */
export async function GET(request: Request, context: Context): Promise<Response> {
  const auth = await requireSession(request);
  if (!auth.ok) return auth.response;
  return fromResult(await jobTrail(auth.portal, auth.session.userId, (await context.params).id));
}
