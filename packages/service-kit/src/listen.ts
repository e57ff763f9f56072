import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Listening {
  host: string;
  port: number;
  /** Base URL clients use, with a trailing slash, e.g. http://127.0.0.1:7430/ */
  url: string;
}

/** Listens on host:port (0 = any free port) and reports the bound address as a URL. */
export async function listen(server: Server, host: string, port: number): Promise<Listening> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const printable = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : shown;
  return { host: addr.address, port: addr.port, url: `http://${printable}:${addr.port}/` };
}
