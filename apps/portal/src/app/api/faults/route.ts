import { requireSession } from '../../../server/auth';
import { fromResult } from '../../../server/http';
import { listFaults } from '../../../server/faults/faults.usecase';

/** GET → `{faults}`: the faults injected into the stack (the scheduler's list; other users' jobs not named). */
export async function GET(request: Request): Promise<Response> {
  const auth = await requireSession(request);
  if (!auth.ok) return auth.response;
  return fromResult(await listFaults(auth.portal, auth.session.userId), (faults) => ({ faults }));
}
