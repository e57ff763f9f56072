import { parseArgs } from 'node:util';
import { UsageError } from './args-common';
import { parseUp, type UpArgs, UP_OPTIONS } from './up-args';
import type { ServeArgs } from './serve-profile';

// built when called (it was a function while args.ts and this file imported each other)
const serveOptions = () =>
  ({
    ...UP_OPTIONS,
    'public-url': { type: 'string' },
    'public-bank-url': { type: 'string' },
    'public-portal-url': { type: 'string' },
    'admin-token': { type: 'string' },
  }) as const;

export const SERVE_USAGE = `
options for serve (the production profile of up: faucet off, no dev accounts, admin token):
  --public-url URL      the scheduler's URL as other machines reach it (every location of the served
                        dcp-config follows it; default with --host ADDR: http://ADDR:<port>/)
  --public-bank-url URL the bank's (default: the public URL's host on the bank port; needed with https)
  --public-portal-url URL
                        the portal's (default like the bank's)
  --admin-token TOKEN   default: $DCP_EMU_ADMIN_TOKEN, else the data dir's admin.token, else a new one
                        (printed once); host defaults to 0.0.0.0; every up option applies
`;

const urlOption = (v: string | undefined, flag: string): string | undefined => {
  if (v === undefined) return undefined;
  try {
    const u = new URL(v);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
    return u.href;
  } catch {
    throw new UsageError(`${flag} needs an http(s) URL such as https://dcp.example.org/, got "${v}"`);
  }
};

/** `dcp-emu serve …`: up's options (host 0.0.0.0 by default) plus the public URLs and the token. */
export function parseServe(
  rest: string[],
  env: NodeJS.ProcessEnv,
  dataDirOf: (v: unknown) => string,
): { up: UpArgs; serve: ServeArgs } {
  let values: Record<string, unknown>;
  try {
    values = parseArgs({ args: rest, options: serveOptions(), allowNegative: true, strict: true }).values;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const own = new Set(['public-url', 'public-bank-url', 'public-portal-url', 'admin-token']);
  const upArgs: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i] as string;
    const name = a.replace(/^--/, '').split('=')[0] as string;
    if (a.startsWith('--') && own.has(name)) {
      if (!a.includes('=')) i++;
      continue;
    }
    upArgs.push(a);
  }
  const up = parseUp(upArgs, { ...env, DCP_EMU_HOST: env.DCP_EMU_HOST ?? '0.0.0.0' }, dataDirOf, {
    portal: true,
  });
  const token = (values['admin-token'] as string | undefined) ?? env.DCP_EMU_ADMIN_TOKEN;
  return {
    up,
    serve: {
      publicUrl: urlOption(
        (values['public-url'] as string | undefined) ?? env.DCP_EMU_PUBLIC_URL,
        '--public-url',
      ),
      publicBankUrl: urlOption(
        (values['public-bank-url'] as string | undefined) ?? env.DCP_EMU_PUBLIC_BANK_URL,
        '--public-bank-url',
      ),
      publicPortalUrl: urlOption(values['public-portal-url'] as string | undefined, '--public-portal-url'),
      adminToken: token || undefined,
    },
  };
}
