'use strict';
/**
 * A real dcp-client (5.6.1 or 4.4.x, chosen by DCP_CLIENT_DIR) as a DCPv5 test peer, in its own
 * process (dcp-client mutates globals). Driven by JSON lines on stdin, reports JSON lines on stdout.
 *
 *   PEER_MODE=initiator PEER_LOCATION=http://127.0.0.1:PORT/echo/   → dcp/protocol Connection
 *   PEER_MODE=target    PEER_LOCATION=http://127.0.0.1:PORT/svc/    → dcp/protocol Target
 *
 * Commands: {id, cmd:'request', op, data} · {id, cmd:'burst', op, n} · {id, cmd:'keepalive'} ·
 * {id, cmd:'push', op, data} (target → latest session) · {id, cmd:'drop'} (target: cut transport) ·
 * {id, cmd:'close'} · {id, cmd:'renew'} (initiator: new Connection) · {cmd:'exit'}
 * Pushed operation 'bare' is answered without catching respond() (like dcp-client's event subscriber).
 */
const mode = process.env.PEER_MODE;
const location = process.env.PEER_LOCATION;
const out = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);

function errorInfo(error) {
  return { message: String(error?.message ?? error), code: error?.code };
}

function responseInfo(response) {
  return { success: response.success, payload: response.payload, time: response.time };
}

/** PEER_MODE=config: init() downloads /etc/dcp-config.kvin from PEER_LOCATION; report what it decoded. */
async function configMode(dcp) {
  await dcp.init(new URL(location));
  const { DcpURL } = require('dcp/dcp-url');
  const describe = (v) => ({
    href: v ? String(v.href) : null,
    isURL: DcpURL.isURL(v),
    instanceOfURL: v instanceof URL || v instanceof DcpURL,
  });
  const services = globalThis.dcpConfig.scheduler.services;
  const decoded = [];
  const fetchUri = require('dcp/utils'); // re-exports utils/fetch-uri
  for (const uri of JSON.parse(process.env.PEER_DATA_URIS || '[]')) {
    try {
      decoded.push({ ok: true, value: await fetchUri.fetchURI(uri, false) });
    } catch (error) {
      decoded.push({ ok: false, error: errorInfo(error) });
    }
  }
  out({
    event: 'config',
    services: Object.fromEntries(Object.entries(services).map(([k, v]) => [k, describe(v.location)])),
    bankTeller: describe(globalThis.dcpConfig.bank.services.bankTeller.location),
    job: globalThis.dcpConfig.job,
    decoded,
  });
  process.exit(0);
}

async function main() {
  const dcp = require(process.env.DCP_CLIENT_DIR);
  if (mode === 'config') return configMode(dcp);
  await dcp.init({
    dcpConfig: {
      scheduler: { configLocation: false, location: new URL(new URL(location).origin) },
      bundle: { location: false, autoUpdate: false },
    },
    parseArgv: false,
  });
  const protocol = require('dcp/protocol');
  const wallet = require('dcp/wallet');
  const identity = await wallet.getId();
  out({
    event: 'init',
    address: String(identity.address),
    version: require(`${process.env.DCP_CLIENT_DIR}/package.json`).version,
  });

  let conn;
  const sessions = [];

  function serveRequests(connection) {
    connection.on('request', async (req) => {
      const { operation, data } = req.payload;
      out({ event: 'pushed', operation, data });
      if (operation === 'bare') {
        // answered like dcp-client's event subscriber does: the respond() promise is not caught, so a
        // rejection surfaces as 'unhandledRejection'; {afterConnectMs}: answer that long after the
        // transport next (re)connects; {delayMs}: answer that much later
        const answer = () => {
          out({ event: 'answered', data });
          req.respond({ bare: data });
        };
        if (typeof data?.afterConnectMs === 'number')
          connection.once('connect', () => setTimeout(answer, data.afterConnectMs));
        else if (typeof data?.delayMs === 'number') setTimeout(answer, data.delayMs);
        else answer();
        return;
      }
      try {
        if (operation === 'echo') await req.respond(data);
        else if (operation === 'fail') {
          const error = new Error(`failed with ${data.code}`);
          error.code = data.code;
          await req.respond(error);
        } else if (operation === 'pushBack') {
          const resp = await connection.request(data.op, data.data);
          await req.respond({ back: resp.payload });
        } else await req.respond({ pushed: operation, data });
      } catch (error) {
        out({ event: 'respondError', ...errorInfo(error) });
      }
    });
  }

  function makeConnection() {
    const c = new protocol.Connection({ location: new URL(location) }, { identity });
    c.on('end', () => out({ event: 'end', code: c.closeErrorCode }));
    c.on('close', () => out({ event: 'close', code: c.closeErrorCode }));
    c.on('ready', () => out({ event: 'ready', dcpsid: c.dcpsid }));
    c.on('disconnect', () => out({ event: 'disconnect' }));
    c.on('connect', () => out({ event: 'connect' }));
    c.on('notification', (n) => out({ event: 'notification', data: n.payload.data }));
    serveRequests(c);
    return c;
  }

  if (mode === 'initiator') conn = makeConnection();
  else {
    const url = new URL(location);
    const target = new protocol.Target(['socketio'], { identity, location: url, listen: url });
    target.on('session', (c) => {
      sessions.push(c);
      serveRequests(c);
      c.on('close', () => out({ event: 'sessionClose', dcpsid: c.dcpsid }));
      out({ event: 'session', dcpsid: c.dcpsid, peer: String(c.peerAddress) });
    });
    target.on('listening', () => out({ event: 'listening' }));
    setTimeout(() => out({ event: 'listening' }), 500).unref();
  }

  const commands = {
    async request({ op, data }) {
      return responseInfo(await conn.request(op, data));
    },
    async burst({ op, n }) {
      const all = await Promise.all(Array.from({ length: n }, (_, i) => conn.request(op, { i })));
      return all.map((r) => r.payload);
    },
    /** requests authorized by the bank keystore (default.keystore), n at once so some travel batched */
    async authz({ op, data, n = 1 }) {
      const ks = await wallet.get();
      const all = await Promise.all(
        Array.from({ length: n }, async (_, i) => {
          const req = new conn.Request(op, { ...data, i });
          await req.authorize(ks);
          return conn.send(req);
        }),
      );
      return { account: String(ks.address), responses: all.map(responseInfo) };
    },
    async notify({ data }) {
      // dcp-client never settles the promise of a notification (its ack handler skips them)
      conn.notify(data).catch(() => {});
      return true;
    },
    async keepalive() {
      return responseInfo(await conn.keepalive());
    },
    async push({ op, data }) {
      const s = sessions[sessions.length - 1];
      return responseInfo(await s.request(op, data));
    },
    async drop() {
      const s = sessions[sessions.length - 1];
      s.transport.close();
      return true;
    },
    async close() {
      (conn ?? sessions[sessions.length - 1]).close();
      return true;
    },
    async renew() {
      conn = makeConnection();
      return true;
    },
    async state() {
      return { state: String(conn.state), dcpsid: conn.dcpsid };
    },
    async exit() {
      process.exit(0);
    },
  };

  let buffer = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk) => {
    buffer += chunk;
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (!line.trim()) continue;
      const cmd = JSON.parse(line);
      commands[cmd.cmd](cmd).then(
        (result) => out({ id: cmd.id, ok: true, result }),
        (error) => out({ id: cmd.id, ok: false, error: errorInfo(error) }),
      );
    }
  });
  process.stdin.on('end', () => process.exit(0));
}

process.on('unhandledRejection', (error) => out({ event: 'unhandledRejection', ...errorInfo(error) }));
process.on('uncaughtException', (error) => {
  out({ event: 'fatal', ...errorInfo(error), stack: String(error?.stack).slice(0, 2000) });
  process.exit(1);
});
main().catch((error) => {
  out({ event: 'fatal', ...errorInfo(error), stack: error?.stack });
  process.exit(1);
});
