import { requireSession } from '@/server/auth';
import { createGroup, listGroups } from '@/server/groups/groups.usecase';
import { fromResult, readJsonBody } from '@/server/http';

/** GET → {groups}: the compute groups the user created, with running jobs and members seen. */
export async function GET(request: Request): Promise<Response> {
  const auth = await requireSession(request);
  if (!auth.ok) return auth.response;
  return fromResult(await listGroups(auth.portal, auth.session.userId), (groups) => ({ groups }));
}

/** POST {joinKey, name, commissionRate, owner?} → 201 {group, joinSecret}: the secret is shown this once. */
export async function POST(request: Request): Promise<Response> {
  const auth = await requireSession(request);
  if (!auth.ok) return auth.response;
  const body = await readJsonBody(request);
  if (!body.ok) return body.response;
  return fromResult(await createGroup(auth.portal, auth.session.userId, body.body), (v) => v, 201);
}
