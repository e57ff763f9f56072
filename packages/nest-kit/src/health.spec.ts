import 'reflect-metadata';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { HealthModule, Readiness } from './health';

async function app(check?: () => void) {
  const moduleRef = await Test.createTestingModule({
    imports: [HealthModule.forRoot({ name: 'svc', version: '1.2.3' })],
  }).compile();
  const nest = moduleRef.createNestApplication({ logger: false });
  if (check) nest.get(Readiness).add('thing', check);
  await nest.init();
  return nest;
}

describe('health endpoints', () => {
  it('/healthz answers while the process is alive', async () => {
    const nest = await app();
    const res = await request(nest.getHttpServer()).get('/healthz').expect(200);
    expect(res.body).toMatchObject({ status: 'ok', service: 'svc', version: '1.2.3' });
    await nest.close();
  });

  it('/readyz is 200 when every check passes', async () => {
    const nest = await app(() => {});
    const res = await request(nest.getHttpServer()).get('/readyz').expect(200);
    expect(res.body).toEqual({ status: 'ready', checks: { thing: 'ok' } });
    await nest.close();
  });

  it('/readyz is 503 and names the failing check', async () => {
    const nest = await app(() => {
      throw new Error('database unreachable');
    });
    const res = await request(nest.getHttpServer()).get('/readyz').expect(503);
    expect(res.body).toEqual({ status: 'not ready', checks: { thing: 'database unreachable' } });
    await nest.close();
  });
});
