import { requireSession } from '@/server/auth';
import { fromResult, readJsonBody } from '@/server/http';
import { issueKeyChallenge } from '@/server/keystores/key-proof.usecase';

/**
 * POST {address} → 201 {challenge:{id, address, message, expiresAt}}: a single-use text for this session
 * to sign (personal_sign) with the key of `address`, answered within 5 minutes on POST /api/keystores
 * (`proof`) or POST /api/keystores/:id/proof.
 */
export async function POST(request: Request): Promise<Response> {
  const auth = await requireSession(request);
  if (!auth.ok) return auth.response;
  const body = await readJsonBody(request);
  if (!body.ok) return body.response;
  return fromResult(
    issueKeyChallenge(auth.portal, auth.session, body.body),
    (challenge) => ({ challenge }),
    201,
  );
}
