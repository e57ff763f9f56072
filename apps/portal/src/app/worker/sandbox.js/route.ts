import { sandboxScript } from '@/browser-worker/sandbox-sources';

/**
 * GET /worker/sandbox.js → the Web Worker script of one browser-worker sandbox (our evaluator's
 * prelude + KVIN behind a Web Worker host). The page loads it once and starts each sandbox from a
 * `data:` URL made of it, so work functions run in an opaque origin.
 */
export const dynamic = 'force-dynamic';

export function GET(): Response {
  return new Response(sandboxScript(), {
    headers: {
      'content-type': 'text/javascript; charset=utf-8',
      'cache-control': 'no-cache',
    },
  });
}
