import { describe, expect, it } from 'vitest';
import { dieLine, LineReader, LineTooLongError, parseLine, resultLine } from './line-protocol';

describe('LineReader', () => {
  it('splits lines across chunks, drops empty lines and CR', () => {
    const r = new LineReader(1024);
    expect(r.push(Buffer.from('{"a":1}\n{"b"'))).toEqual(['{"a":1}']);
    expect(r.push(Buffer.from(':2}\r\n\n'))).toEqual(['{"b":2}']);
  });

  it('keeps multi-byte characters split between chunks intact', () => {
    const r = new LineReader(1024);
    const bytes = Buffer.from('"héllo ☃"\n');
    expect(r.push(bytes.subarray(0, 3))).toEqual([]);
    expect(r.push(bytes.subarray(3))).toEqual(['"héllo ☃"']);
  });

  it('refuses a line longer than the limit, with or without its newline', () => {
    expect(() => new LineReader(8).push(Buffer.from('0123456789\n'))).toThrow(LineTooLongError);
    const r = new LineReader(8);
    r.push(Buffer.from('01234'));
    expect(() => r.push(Buffer.from('56789'))).toThrow(LineTooLongError);
  });
});

describe('parseLine', () => {
  it('accepts the three envelope types', () => {
    expect(parseLine('{"type":"die"}')).toEqual({ ok: true, envelope: { type: 'die' } });
    const wm = parseLine('{"type":"workerMessage","message":{"_serializeVerId":"v8","what":3}}');
    expect(wm.ok && wm.envelope.type === 'workerMessage' && wm.envelope.message._serializeVerId).toBe('v8');
    expect(parseLine('{"type":"newSerializer","payload":"x"}').ok).toBe(true);
  });

  it('reports bad JSON, unknown types and missing members as errors with an origin', () => {
    const bad = parseLine('{nope');
    expect(bad).toMatchObject({ ok: false, origin: undefined, error: { name: 'SyntaxError' } });
    expect(parseLine('{"type":"launch"}')).toMatchObject({
      ok: false,
      origin: 'launch',
      error: { message: "Invalid message type 'launch'" },
    });
    expect(parseLine('{"type":"workerMessage"}')).toMatchObject({ ok: false, origin: 'workerMessage' });
    expect(parseLine('[1,2]')).toMatchObject({ ok: false });
  });
});

describe('outbound lines', () => {
  it('frames results and DIE lines on one line', () => {
    expect(JSON.parse(resultLine(true, 'workerMessage').slice(4))).toEqual({
      type: 'result',
      step: 'workerMessage',
      success: true,
      origin: 'workerMessage',
    });
    const failed = JSON.parse(resultLine(false, undefined, { name: 'SyntaxError', message: 'x' }).slice(4));
    expect(failed).toMatchObject({ success: false, exception: { name: 'SyntaxError', message: 'x' } });
    expect(dieLine('a\nb')).toBe('DIE: a b');
  });
});
