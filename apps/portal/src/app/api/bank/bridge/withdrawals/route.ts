import { requireSession } from '@/server/auth';
import { bridge } from '@/server/bank/bank.usecase';
import { fromResult, readJsonBody } from '@/server/http';

/** POST {address, amount, nonce, signature} (signed in the browser) → 201 {hash, …}. */
export async function POST(request: Request): Promise<Response> {
  const auth = await requireSession(request);
  if (!auth.ok) return auth.response;
  const body = await readJsonBody(request);
  if (!body.ok) return body.response;
  return fromResult(await bridge(auth.portal, auth.session.userId, 'withdraw', body.body), (v) => v, 201);
}
