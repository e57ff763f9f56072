/** Where clients are told the scheduler and the bank live (the served dcp-config's locations). */
export interface PublicBases {
  /** the scheduler's base URL for clients and workers */
  scheduler: URL;
  /** the bank's base URL for clients and workers (its bank teller lives under it) */
  bank: URL;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/i;

const withSlash = (u: URL) => (u.pathname.endsWith('/') ? u : new URL(`${u.href}/`));

/**
 * The bases of the served dcp-config:
 * - `publicUrl` / `publicBankUrl` (`dcp-emu serve --public-url …`, `DCP_EMU_PUBLIC_URL`,
 *   `DCP_EMU_PUBLIC_BANK_URL`) win: the administrator knows the addresses behind a proxy or NAT;
 * - else the scheduler follows the request's Host (what the client reached), and the bank keeps
 *   its internal URL, except that a loopback bank URL is moved to the host the client reached (same
 *   protocol and port): a remote machine must never be sent to its own loopback.
 */
export function publicBases(
  requestBase: URL,
  o: { publicUrl?: string; publicBankUrl?: string; bankUrl?: string },
): PublicBases {
  const scheduler = o.publicUrl ? withSlash(new URL(o.publicUrl)) : requestBase;
  if (o.publicBankUrl) return { scheduler, bank: withSlash(new URL(o.publicBankUrl)) };
  if (!o.bankUrl) return { scheduler, bank: scheduler };
  const bank = withSlash(new URL(o.bankUrl));
  if (LOOPBACK.test(bank.hostname) && !LOOPBACK.test(scheduler.hostname)) {
    const moved = new URL(bank.href);
    moved.hostname = scheduler.hostname;
    return { scheduler, bank: moved };
  }
  return { scheduler, bank };
}
