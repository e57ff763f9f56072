import { json } from '@/server/http';

export const dynamic = 'force-dynamic';

/** Liveness: the process serves requests. The stack launcher polls it. */
export function GET(): Response {
  return json({ status: 'ok' });
}
