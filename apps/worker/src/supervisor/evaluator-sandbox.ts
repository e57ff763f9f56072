import { connect, type Socket } from 'node:net';
import { DcpError, DcpErrorCode } from '@dcp-emu/protocol/node';
import {
  defaultSandboxTimeouts,
  type LineChannel,
  LineSandbox,
  type SandboxHost,
  type SandboxTimeouts,
} from '@dcp-emu/worker-core';

export {
  type AssignJob,
  defaultSandboxTimeouts,
  type FetchRequestData,
  type FetchResponseData,
  type LineChannel,
  LineSandbox,
  type Measurement,
  type SandboxFactory,
  type SandboxHost,
  type SandboxTimeouts,
  type SliceOutcome,
} from '@dcp-emu/worker-core';

/** A TCP connection to an evaluator as a line channel (newline-framed UTF-8, §5.2). */
export function socketChannel(socket: Socket): LineChannel {
  let buf = '';
  socket.setEncoding('utf8');
  socket.setNoDelay(true);
  return {
    write: (line) => {
      socket.write(`${line}\n`);
    },
    destroy: () => {
      socket.destroy();
    },
    onLine: (listener) => {
      socket.on('data', (chunk: string) => {
        buf += chunk;
        let nl = buf.indexOf('\n');
        while (nl >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          listener(line);
          nl = buf.indexOf('\n');
        }
      });
    },
    onClose: (listener) => {
      socket.on('close', () => listener('evaluator closed the connection'));
      socket.on('error', (e) => listener(`evaluator connection error: ${e.message}`));
    },
  };
}

/**
 * One sandbox = one TCP connection to an evaluator (`dcp-emu-evaluator` or DCP's evaluator-node),
 * §5.1: `EvaluatorSandbox.open(host, port, sandboxHost)` connects and runs `describe`.
 */
export class EvaluatorSandbox extends LineSandbox {
  /** Opens a sandbox connection and runs `describe` (capabilities, worktimes). */
  static async open(
    hostname: string,
    port: number,
    host: SandboxHost,
    timeouts: SandboxTimeouts = defaultSandboxTimeouts,
  ): Promise<LineSandbox> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect({ host: hostname, port });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new DcpError(DcpErrorCode.ESANDBOX, `evaluator at ${hostname}:${port} did not answer`));
      }, timeouts.connectMs);
      s.once('connect', () => {
        clearTimeout(timer);
        s.removeAllListeners('error');
        resolve(s);
      });
      s.once('error', (e) => {
        clearTimeout(timer);
        reject(new DcpError(DcpErrorCode.ESANDBOX, `no evaluator at ${hostname}:${port}: ${e.message}`));
      });
    });
    return LineSandbox.start(socketChannel(socket), host, timeouts);
  }
}
