import { describe, expect, it } from 'vitest';
import { ancestors, ensurePeerAccess, PeerAccessError, type PeerAccessPorts } from './peer-access';

const ids = { uid: 65534, gid: 65534 };

/** A file system in memory: directory modes, the ACL entries given, whether files are readable. */
function fakePorts(modes: Record<string, number>, opts: { setfacl?: boolean; filesReadable?: boolean } = {}) {
  const acl = new Set<string>();
  const said: string[] = [];
  const ports: PeerAccessPorts = {
    canRead: (file) =>
      (opts.filesReadable ?? true) &&
      ancestors(file.slice(0, file.lastIndexOf('/')) || '/').every(
        (d) => ((modes[d] ?? 0o755) & 0o001) !== 0 || acl.has(d),
      ),
    mode: (d) => modes[d] ?? 0o755,
    hasSetfacl: () => opts.setfacl ?? true,
    setfacl: (uid, d) => {
      expect(uid).toBe(ids.uid);
      acl.add(d);
    },
    say: (l) => said.push(l),
  };
  return { ports, acl, said };
}

describe('the peer user reaching a checkout in a private directory', () => {
  it('lists a path and its ancestors from the root', () => {
    expect(ancestors('/a/b/c')).toEqual(['/', '/a', '/a/b', '/a/b/c']);
    expect(ancestors('/')).toEqual(['/']);
  });

  it('does nothing when the peer can already read the checkout', () => {
    const { ports, acl } = fakePorts({});
    expect(ensurePeerAccess('/w/repo', ids, '/w/repo/node_modules/x', ports)).toEqual([]);
    expect(acl.size).toBe(0);
  });

  it('gives traverse (ACL u:nobody:x) only on the directories that lack it for others', () => {
    const { ports, acl, said } = fakePorts({ '/ci': 0o700, '/ci/work': 0o750 });
    expect(ensurePeerAccess('/ci/work/repo', ids, '/ci/work/repo/node_modules/x', ports)).toEqual([
      '/ci',
      '/ci/work',
    ]);
    expect([...acl]).toEqual(['/ci', '/ci/work']);
    expect(said[0]).toMatch(/ACL u:65534:x\) on \/ci, \/ci\/work/);
  });

  it('fails early, saying what to do, without setfacl or with unreadable files', () => {
    const none = fakePorts({ '/ci': 0o700 }, { setfacl: false });
    expect(() => ensurePeerAccess('/ci/repo', ids, '/ci/repo/f', none.ports)).toThrow(PeerAccessError);
    expect(() => ensurePeerAccess('/ci/repo', ids, '/ci/repo/f', none.ports)).toThrow(
      /\/ci is private .*apt-get install acl.*setfacl -m u:65534:x \/ci/,
    );
    const unreadable = fakePorts({}, { filesReadable: false });
    expect(() => ensurePeerAccess('/ci/repo', ids, '/ci/repo/f', unreadable.ports)).toThrow(/umask 022/);
  });
});
