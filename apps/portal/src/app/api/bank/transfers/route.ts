import { requireSession } from '@/server/auth';
import { transfer } from '@/server/bank/bank.usecase';
import { fromResult, readJsonBody } from '@/server/http';

/** POST {from,to,amount,nonce,signature} (signed in the browser) → 201 {transaction, replayed}. */
export async function POST(request: Request): Promise<Response> {
  const auth = await requireSession(request);
  if (!auth.ok) return auth.response;
  const body = await readJsonBody(request);
  if (!body.ok) return body.response;
  return fromResult(await transfer(auth.portal, auth.session.userId, body.body), (v) => v, 201);
}
