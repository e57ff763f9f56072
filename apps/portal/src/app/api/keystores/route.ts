import { requireSession } from '@/server/auth';
import { fromResult, json, readJsonBody } from '@/server/http';
import { saveKeystore } from '@/server/keystores/save-keystore.usecase';
import { listKeystores } from '@/server/keystores/keystores.usecase';

/** GET → {keystores:[{id,kind,label,address,createdAt,provenAt}]}: the signed-in user's keystores only. */
export async function GET(request: Request): Promise<Response> {
  const auth = await requireSession(request);
  if (!auth.ok) return auth.response;
  return json({ keystores: await listKeystores(auth.portal, auth.session.userId) });
}

/**
 * POST {kind, label, keystore, proof?} → 201 {keystore:{id,kind,label,address,createdAt,provenAt}}. The
 * keystore stays encrypted; with a valid `proof` it is stored proven, else unproven (grants nothing).
 */
export async function POST(request: Request): Promise<Response> {
  const auth = await requireSession(request);
  if (!auth.ok) return auth.response;
  const body = await readJsonBody(request);
  if (!body.ok) return body.response;
  return fromResult(
    await saveKeystore(auth.portal, auth.session.userId, body.body, auth.session.sessionId),
    (keystore) => ({ keystore }),
    201,
  );
}
