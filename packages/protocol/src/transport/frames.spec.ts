import { describe, expect, it } from 'vitest';
import { socketPair } from '../test-support/memory';
import { FramedLink } from './frames';

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('FramedLink', () => {
  it("fragments to the peer's announced rxMaxFragmentSize and reassembles", async () => {
    const [sa, sb] = socketPair();
    const a = new FramedLink(sa);
    const b = new FramedLink(sb, { rxMaxFragmentSize: 1000 });
    const got: string[] = [];
    b.on('message', (m) => got.push(m));
    b.announce();
    await tick();
    expect(a.peer.rxMaxFragmentSize).toBe(1000);
    const message = `{"x":"${'é'.repeat(4500)}"}`;
    a.send(message);
    await tick();
    const fragments = sa.sent.filter((f) => f.startsWith('E') && f[5] === 'C');
    expect(fragments).toHaveLength(5);
    for (const f of fragments) {
      const headerLength = Number.parseInt(f.slice(1, 5), 16);
      expect(f.length - 6 - headerLength).toBeLessThanOrEqual(1000);
    }
    expect(got).toEqual([message]);
  });

  it('sends whole messages up to 1e6 characters to a peer that did not announce', async () => {
    const [sa, sb] = socketPair();
    const a = new FramedLink(sa);
    const b = new FramedLink(sb);
    const got: string[] = [];
    b.on('message', (m) => got.push(m));
    const message = `{"x":"${'a'.repeat(999_000)}"}`;
    a.send(message);
    await tick();
    expect(sa.sent).toEqual([message]);
    expect(got).toEqual([message]);
  });

  it('delivers O frames, ignores A, T and unknown extended frames, refuses unknown frame types', async () => {
    const [sa, sb] = socketPair();
    new FramedLink(sa);
    const b = new FramedLink(sb);
    const got: string[] = [];
    const errors: string[] = [];
    b.on('message', (m) => got.push(m));
    b.on('error', (e) => errors.push(e.code));
    sa.send('A0000-ACK');
    sa.send('Tdebug');
    sa.send('E0000Zwhatever');
    sa.send('E0000O{"close":1}');
    sa.send('{"whole":1}');
    await tick();
    expect(got).toEqual(['{"close":1}', '{"whole":1}']);
    expect(errors).toEqual([]);
    sa.send('?');
    await tick();
    expect(errors).toEqual(['EINVAL']);
    expect(b.closed).toBe(true);
  });

  it('refuses too many fragments, too large messages and corrupt fragment headers', async () => {
    const cases: [Partial<ConstructorParameters<typeof FramedLink>[1]>, string[], string][] = [
      [{ rxMaxFragmentCount: 2 }, ['E001dC{"msgId":1,"seq":0,"total":3}abc'], 'ETOOBIG'],
      [{ maxMessageSize: 5 }, ['E001dC{"msgId":1,"seq":0,"total":2}abcdef'], 'ETOOBIG'],
      [
        { maxMessageSize: 8 },
        ['E001dC{"msgId":1,"seq":0,"total":2}abcde', 'E001dC{"msgId":2,"seq":0,"total":2}abcde'],
        'ETOOBIG',
      ],
      [{ maxMessageSize: 5 }, ['{"abcdef":1}'], 'ETOOBIG'],
      [{}, ['E0005C{"msg'], 'EINVAL'],
      [{}, ['E001dC{"msgId":1,"seq":3,"total":3}abc'], 'EINVAL'],
      [{}, ['EzzzzC'], 'EINVAL'],
    ];
    for (const [options, frames, code] of cases) {
      const [sa, sb] = socketPair();
      const b = new FramedLink(sb, options);
      const errors: string[] = [];
      b.on('error', (e) => errors.push(e.code));
      for (const f of frames) sa.send(f);
      await tick();
      expect(errors, JSON.stringify(frames)).toEqual([code]);
      expect(b.closed).toBe(true);
    }
  });
});
