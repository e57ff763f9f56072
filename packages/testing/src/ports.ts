import { connect } from 'node:net';

/** Is something listening on this loopback port? */
export function portOpen(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      res(true);
    });
    s.once('error', () => res(false));
  });
}

/** A base port with `count` consecutive free ports (a whole stack's `--port-base`), in 20000–39999. */
export async function freePortBase(count = 5): Promise<number> {
  for (;;) {
    const base = 20_000 + Math.floor(Math.random() * 20_000);
    const used = await Promise.all(Array.from({ length: count }, (_, i) => portOpen(base + i)));
    if (!used.some(Boolean)) return base;
  }
}
