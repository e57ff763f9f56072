import { parseArgs } from 'node:util';
import { defaultDataDir } from '@dcp-emu/service-kit';
import type { ServiceName } from './stack';
import { up } from './up';

const USAGE = `usage: dcp-emu <command> [options]

commands:
  up        start scheduler, bank, portal and a worker; print their URLs; Ctrl-C stops all

options for up:
  --data-dir DIR        where state lives (default: $DCP_EMU_DATA_DIR or the user data dir)
  --database-url URL    file:<path> (SQLite, default) or postgresql://…
  --host HOST           bind address (default 127.0.0.1)
  --port-base N         scheduler N, bank N+1, portal N+2, worker N+3, its evaluator N+4 (default 7430)
  --no-portal           do not start the portal
  --no-worker           do not start the worker
  --no-build            do not build missing parts first
  --log-level LEVEL     fatal|error|warn|info|debug|trace (default info)
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return command ? 0 : 2;
  }
  if (command !== 'up') {
    process.stderr.write(`dcp-emu: unknown command "${command}"\n\n${USAGE}`);
    return 2;
  }
  const { values } = parseArgs({
    args: rest,
    allowNegative: true,
    options: {
      'data-dir': { type: 'string' },
      'database-url': { type: 'string' },
      host: { type: 'string' },
      'port-base': { type: 'string' },
      portal: { type: 'boolean', default: true },
      worker: { type: 'boolean', default: true },
      build: { type: 'boolean', default: true },
      'log-level': { type: 'string' },
    },
  });
  const base = Number(values['port-base'] ?? process.env.DCP_EMU_PORT_BASE ?? 7430);
  if (!Number.isInteger(base) || base < 1 || base > 65532) {
    process.stderr.write(`dcp-emu: --port-base must be a port number, got ${values['port-base']}\n`);
    return 2;
  }
  const services: ServiceName[] = ['scheduler', 'bank'];
  if (values.portal) services.push('portal');
  if (values.worker) services.push('worker');
  return up({
    host: values.host ?? process.env.DCP_EMU_HOST ?? '127.0.0.1',
    dataDir: values['data-dir'] ?? defaultDataDir(),
    databaseUrl: values['database-url'] ?? process.env.DCP_EMU_DATABASE_URL,
    ports: { scheduler: base, bank: base + 1, portal: base + 2, worker: base + 3, evaluator: base + 4 },
    logLevel: values['log-level'] ?? process.env.DCP_EMU_LOG_LEVEL ?? 'info',
    services,
    build: values.build,
    readyTimeoutMs: 90_000,
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined) process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`dcp-emu: ${(e as Error).message}\n`);
    process.exit(1);
  },
);
