import { handleSignals, startService } from '@dcp-emu/nest-kit';
import { ConfigError } from '@dcp-emu/service-kit';
import { AppModule } from './app.module';
import { loadSchedulerConfig } from './config';

async function main() {
  const config = loadSchedulerConfig();
  const service = await startService(AppModule.forRoot(config), { name: 'scheduler', ...config });
  handleSignals(service);
}

main().catch((e) => {
  console.error(e instanceof ConfigError ? e.message : e);
  process.exit(1);
});
