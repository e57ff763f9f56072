import { requireSession } from '@/server/auth';
import { fromResult, readJsonBody } from '@/server/http';
import { proveKeystore } from '@/server/keystores/key-proof.usecase';

interface Context {
  params: Promise<{ id: string }>;
}

/**
 * POST {challenge, signature} → {keystore}: proves a stored keystore's key (the challenge signed with it);
 * from then on it grants its address's jobs, history, groups and earnings. 403 EBADSIG / EEXPIRED when the
 * proof does not hold (nothing changes), 404 ENOENT for keystores that are not the user's.
 */
export async function POST(request: Request, context: Context): Promise<Response> {
  const auth = await requireSession(request);
  if (!auth.ok) return auth.response;
  const body = await readJsonBody(request);
  if (!body.ok) return body.response;
  return fromResult(
    await proveKeystore(auth.portal, auth.session, (await context.params).id, body.body),
    (keystore) => ({ keystore }),
  );
}
