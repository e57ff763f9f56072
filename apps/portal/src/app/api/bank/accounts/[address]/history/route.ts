import { requireSession } from '@/server/auth';
import { accountHistory } from '@/server/bank/bank.usecase';
import { fromResult } from '@/server/http';

interface Context {
  params: Promise<{ address: string }>;
}

/** GET → the bank journal of one of the user's accounts; 404 ENOENT for anyone else's. */
export async function GET(request: Request, context: Context): Promise<Response> {
  const auth = await requireSession(request);
  if (!auth.ok) return auth.response;
  return fromResult(await accountHistory(auth.portal, auth.session.userId, (await context.params).address));
}
