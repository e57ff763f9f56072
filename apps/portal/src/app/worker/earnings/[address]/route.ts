import { DcpErrorCode } from '@dcp-emu/protocol';
import { accountEarnings } from '@/browser-worker/earnings';
import { requireSession } from '@/server/auth';
import { json } from '@/server/http';

/**
 * GET /worker/earnings/:address → {account:{address, balance, held}} for one of the signed-in
 * user's bank accounts, read from the bank; 404 ENOENT for other addresses, 502 EFETCH when the
 * bank does not answer.
 */
export async function GET(
  request: Request,
  { params }: { params: Promise<{ address: string }> },
): Promise<Response> {
  const auth = await requireSession(request);
  if (!auth.ok) return auth.response;
  const { address } = await params;
  const r = await accountEarnings(
    { keystores: auth.portal.keystores, bankUrl: auth.portal.config.bankUrl },
    auth.session.userId,
    address,
  );
  if (r.ok) return json({ account: r.value });
  const status =
    r.error.code === DcpErrorCode.ENOENT ? 404 : r.error.code === DcpErrorCode.EINVAL ? 400 : 502;
  return json({ error: r.error }, status);
}
