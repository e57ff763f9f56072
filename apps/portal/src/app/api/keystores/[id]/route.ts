import { DcpErrorCode } from '@dcp-emu/protocol';
import { requireSession } from '@/server/auth';
import { errorResponse, fromResult, isSameOrigin } from '@/server/http';
import { deleteKeystore, downloadKeystore } from '@/server/keystores/keystores.usecase';

interface Context {
  params: Promise<{ id: string }>;
}

/**
 * GET → the encrypted keystore as a file (`id.keystore` for identities, `default.keystore` for bank
 * accounts); 404 ENOENT for unknown ids and for other users' keystores alike.
 */
export async function GET(request: Request, context: Context): Promise<Response> {
  const auth = await requireSession(request);
  if (!auth.ok) return auth.response;
  const result = await downloadKeystore(auth.portal, auth.session.userId, (await context.params).id);
  if (!result.ok) return errorResponse(result.error);
  return new Response(result.value.json, {
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'content-disposition': `attachment; filename="${result.value.fileName}"`,
      'cache-control': 'no-store',
    },
  });
}

/** DELETE → {deleted:id}; 404 ENOENT when the keystore is not the user's. */
export async function DELETE(request: Request, context: Context): Promise<Response> {
  if (!isSameOrigin(request))
    return errorResponse({ code: DcpErrorCode.EPERM, message: 'cross-site requests are not accepted' });
  const auth = await requireSession(request);
  if (!auth.ok) return auth.response;
  const result = await deleteKeystore(auth.portal, auth.session.userId, (await context.params).id);
  return fromResult(result, (v) => ({ deleted: v.id }));
}
