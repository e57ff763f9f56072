import { DcpErrorCode } from '@dcp-emu/protocol';
import { requireSession } from '@/server/auth';
import { removeJob } from '@/server/groups/groups.usecase';
import { errorResponse, fromResult, isSameOrigin } from '@/server/http';

interface Context {
  params: Promise<{ joinKey: string; job: string }>;
}

/** DELETE → {job, groups}: takes a job out of one of the user's groups. */
export async function DELETE(request: Request, context: Context): Promise<Response> {
  if (!isSameOrigin(request))
    return errorResponse({ code: DcpErrorCode.EPERM, message: 'cross-site requests are not accepted' });
  const auth = await requireSession(request);
  if (!auth.ok) return auth.response;
  const { joinKey, job } = await context.params;
  return fromResult(await removeJob(auth.portal, auth.session.userId, joinKey, job));
}
