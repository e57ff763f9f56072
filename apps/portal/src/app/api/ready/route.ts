import { json } from '@/server/http';
import { getPortal } from '@/server/portal';

export const dynamic = 'force-dynamic';

/** Readiness: the database is migrated and answers. 503 with the reason otherwise. */
export async function GET(): Promise<Response> {
  try {
    const state = await (await getPortal()).ready();
    return state.ok ? json({ status: 'ok' }) : json({ status: 'unavailable', reason: state.reason }, 503);
  } catch (e) {
    return json({ status: 'unavailable', reason: e instanceof Error ? e.message : String(e) }, 503);
  }
}
