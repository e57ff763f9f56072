import { describe, expect, it } from 'vitest';
import { publicBases } from './public-locations';

const req = new URL('http://10.1.2.3:7430/');

describe('publicBases', () => {
  it('uses the public URLs when given, for the scheduler and the bank', () => {
    const b = publicBases(req, {
      publicUrl: 'https://dcp.example.org',
      publicBankUrl: 'https://bank.example.org/dcp',
      bankUrl: 'http://127.0.0.1:7431/',
    });
    expect(b.scheduler.href).toBe('https://dcp.example.org/');
    expect(b.bank.href).toBe('https://bank.example.org/dcp/');
  });

  it('moves a loopback bank URL to the host the client reached', () => {
    const b = publicBases(req, { bankUrl: 'http://127.0.0.1:7431/' });
    expect(b.scheduler.href).toBe('http://10.1.2.3:7430/');
    expect(b.bank.href).toBe('http://10.1.2.3:7431/');
  });

  it('moves a loopback bank under a public scheduler URL to that host', () => {
    const b = publicBases(req, { publicUrl: 'http://dcp.lan:7430/', bankUrl: 'http://localhost:7431' });
    expect(b.bank.href).toBe('http://dcp.lan:7431/');
  });

  it('keeps a loopback bank URL for a loopback client', () => {
    const b = publicBases(new URL('http://127.0.0.1:7430/'), { bankUrl: 'http://127.0.0.1:7431/' });
    expect(b.bank.href).toBe('http://127.0.0.1:7431/');
  });

  it('keeps a non-loopback bank URL and falls back to the scheduler without one', () => {
    expect(publicBases(req, { bankUrl: 'http://bank.lan:9000/' }).bank.href).toBe('http://bank.lan:9000/');
    expect(publicBases(req, {}).bank.href).toBe('http://10.1.2.3:7430/');
  });
});
