import { requireSession } from '@/server/auth';
import { listAccounts } from '@/server/bank/bank.usecase';
import { fromResult } from '@/server/http';

/** GET → {accounts:[{address,label,balance,held}]}: the user's bank-account keystores with their balances. */
export async function GET(request: Request): Promise<Response> {
  const auth = await requireSession(request);
  if (!auth.ok) return auth.response;
  return fromResult(await listAccounts(auth.portal, auth.session.userId), (accounts) => ({ accounts }));
}
