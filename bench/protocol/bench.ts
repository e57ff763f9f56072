/**
 * DCPv5 protocol figures: signatures and verifications per second (native secp256k1 and noble), and
 * request/response round trips per second over one loopback socket.io connection.
 * Prints numbers; asserts nothing.   npm run bench:protocol -w @dcp-emu/protocol
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import {
  attachDcpTarget,
  DcpInitiator,
  DcpTarget,
  Identity,
  nativeCrypto,
  nobleCrypto,
  OperationRegistry,
  open,
  recoverPersonal,
  seal,
  silentLogger,
} from '../../packages/protocol/src/node';

function rate(label: string, seconds: number, fn: () => void): number {
  let n = 0;
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    for (let i = 0; i < 50; i++) fn();
    n += 50;
  }
  const perSec = n / seconds;
  console.log(`${label.padEnd(48)} ${Math.round(perSec).toLocaleString('en-US').padStart(10)} /s`);
  return perSec;
}

async function asyncRate(
  label: string,
  count: number,
  fn: () => Promise<unknown>,
  inFlight = 1,
): Promise<void> {
  const start = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      await fn();
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const seconds = (performance.now() - start) / 1000;
  console.log(
    `${label.padEnd(48)} ${Math.round(count / seconds)
      .toLocaleString('en-US')
      .padStart(10)} /s  (${count} in ${seconds.toFixed(2)} s)`,
  );
}

async function main(): Promise<void> {
  const body = {
    id: '1-2-abcdefghijklmnopqrstu',
    type: 'request',
    payload: {
      operation: 'requestTask@3',
      data: { capabilities: 255, jobIds: ['j1', 'j2'], numCores: 4 },
      allow: [],
      validity: { stamp: 'abcdefghijklmnopqrstu', ttl: 120, time: Date.now() / 1000 },
    },
    auth: {},
    dcpsid: 'x'.repeat(42),
    time: Date.now() / 1000,
    ackToken: 'ATi2-abcdefghijklmnopqrstu',
    nonce: 'NNt1-abcdefghijklmnopqrstu',
  };
  const text = JSON.stringify(body);
  console.log(`crypto (message of ${text.length} characters)`);
  for (const crypto of [nativeCrypto, nobleCrypto]) {
    const id = Identity.random(crypto);
    const sig = id.sign(text);
    rate(`  sign (${crypto.name})`, 1, () => id.sign(text));
    rate(`  verify = recover (${crypto.name})`, 1, () => recoverPersonal(crypto, text, sig));
  }
  const id = Identity.random(nativeCrypto);
  const sealed = seal(id, body);
  rate('  seal (native)', 1, () => seal(id, body));
  rate('  open = parse + verify (native)', 1, () => open(sealed, nativeCrypto));

  const target = new DcpTarget({ identity: Identity.random(), logger: silentLogger });
  target.service(
    'echo',
    new OperationRegistry().register({ operation: 'echo', schema: z.unknown(), handler: (d) => d }),
  );
  const http = createServer();
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const attached = attachDcpTarget(target, http);
  const location = `http://127.0.0.1:${(http.address() as AddressInfo).port}/echo/`;
  const initiator = new DcpInitiator({ location, identity: Identity.random(), logger: silentLogger });
  await initiator.connect();
  console.log('round trips over one loopback connection (our initiator ⇄ our target, socket.io websocket)');
  const small = { n: 1, s: 'small payload' };
  await asyncRate('  sequential request/response', 2000, () => initiator.request('echo', small));
  await asyncRate('  20 in flight (batched)', 10_000, () => initiator.request('echo', small), 20);
  await asyncRate('  100 in flight (batched)', 20_000, () => initiator.request('echo', small), 100);
  const big = { blob: 'x'.repeat(100_000) };
  await asyncRate('  sequential, 100 kB payload', 200, () => initiator.request('echo', big));
  const stats = initiator.session!.stats;
  console.log(
    `  initiator sent ${stats.txMessages} DcpMessages (${stats.txBatches} batches), ${stats.txAcks} acks`,
  );
  await initiator.close();
  await attached.close();
  http.closeAllConnections();
  await new Promise((r) => http.close(r));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
