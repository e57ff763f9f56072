import { requireSession } from '@/server/auth';
import { bridgeAccount } from '@/server/bank/bank.usecase';
import { fromResult } from '@/server/http';

interface Context {
  params: Promise<{ address: string }>;
}

/** GET → {address, chainBalance, bankBalance, transactions}: the emulated chain side of one of the user's accounts. */
export async function GET(request: Request, context: Context): Promise<Response> {
  const auth = await requireSession(request);
  if (!auth.ok) return auth.response;
  return fromResult(await bridgeAccount(auth.portal, auth.session.userId, (await context.params).address));
}
