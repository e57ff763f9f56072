/*
 * What dcp-util 2.3.14's `schedmsg` means to send, sent with its own dcp-client (4.4.29, DCP_CLIENT_DIR):
 * the same message `{target, broadcast, command, payload}` in a `sendSchedMsg` request signed by the
 * target identity, to the scheduler's event router. schedmsg itself cannot send it with that
 * dcp-client: it builds its Connection from `scheduler.location.resolve('events')`, a string, which
 * 4.4's Connection refuses ("bad targetDescriptor"), and its three-argument `new Request(operation,
 * data, identity)` is not a form 4.4's Request takes. Here: `Connection({location}, {identity})` and
 * `connection.request(operation, data)`, as dcp-util's other bins do. Prints `OUT {json}`.
 * argv: <command> <broadcast:true|false> [payload json] [target address]
 */
const { init } = require(process.env.DCP_CLIENT_DIR);
const out = (o) => console.log(`OUT ${JSON.stringify(o)}`);

init()
  .then(async () => {
    const { Connection } = require('dcp/protocol');
    const { getId } = require('dcp/wallet');
    const [command, broadcast, payload, target] = process.argv.slice(2);
    const targetIdentity = await getId();
    const message = {
      target: target || targetIdentity.address,
      broadcast: broadcast === 'true',
      command,
      payload: payload ? JSON.parse(payload) : {},
    };
    const location = require('dcp/dcp-config').scheduler.services.eventRouter.location;
    const connection = new Connection({ location }, { identity: targetIdentity });
    try {
      const { success, payload: response } = await connection.request('sendSchedMsg', message);
      out({ success, response });
    } catch (e) {
      out({ sendFailed: String(e?.stack || e) });
    }
    try {
      await connection.close();
    } catch {
      /* already closed */
    }
  })
  .catch((e) => out({ fatal: String(e?.stack || e) }))
  .finally(() => process.exit());
