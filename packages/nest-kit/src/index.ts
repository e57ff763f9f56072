export { handleSignals, type RunningService, type ServiceOptions, startService } from './bootstrap';
export { DATABASE, DatabaseModule } from './database';
export {
  HealthController,
  HealthModule,
  Readiness,
  type ReadinessCheck,
  SERVICE_INFO,
  type ServiceInfo,
} from './health';
export { PinoNestLogger } from './logger';
export * from './state';
export * from './rest';
export { type TimeModuleOptions, TimeModule } from './time/time.module';
