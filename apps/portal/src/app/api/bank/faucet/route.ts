import { requireSession } from '@/server/auth';
import { faucet } from '@/server/bank/bank.usecase';
import { fromResult, readJsonBody } from '@/server/http';

/** POST {address, amount} → 201 {transaction}: dev DCC into one of the user's accounts. */
export async function POST(request: Request): Promise<Response> {
  const auth = await requireSession(request);
  if (!auth.ok) return auth.response;
  const body = await readJsonBody(request);
  if (!body.ok) return body.response;
  return fromResult(await faucet(auth.portal, auth.session.userId, body.body), (v) => v, 201);
}
