import { DcpErrorCode } from '@dcp-emu/protocol';
import { requireSession } from '@/server/auth';
import { deleteGroup } from '@/server/groups/groups.usecase';
import { errorResponse, fromResult, isSameOrigin } from '@/server/http';

interface Context {
  params: Promise<{ joinKey: string }>;
}

/** DELETE → {deleted}; 404 ENOENT unless the user created the group. */
export async function DELETE(request: Request, context: Context): Promise<Response> {
  if (!isSameOrigin(request))
    return errorResponse({ code: DcpErrorCode.EPERM, message: 'cross-site requests are not accepted' });
  const auth = await requireSession(request);
  if (!auth.ok) return auth.response;
  return fromResult(await deleteGroup(auth.portal, auth.session.userId, (await context.params).joinKey));
}
