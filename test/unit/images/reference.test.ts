import { describe, expect, it } from 'vitest';
import { formatReference, parseReference } from '../../../src/images/reference.js';
import { Code } from '../../../src/util/errors.js';

const D = 'sha256:' + 'ab'.repeat(32);

describe('parseReference normalises like Docker', () => {
  it.each([
    ['busybox', 'docker.io/library/busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36'],
    ['foo/bar', 'docker.io/foo/bar:latest'],
    ['docker.io/busybox', 'docker.io/library/busybox:latest'],
    ['index.docker.io/library/busybox:1', 'docker.io/library/busybox:1'],
    ['localhost/x', 'localhost/x:latest'],
    ['localhost:5000/x', 'localhost:5000/x:latest'],
    ['127.0.0.1:5000/x:tag', '127.0.0.1:5000/x:tag'],
    ['registry.k8s.io/pause:3.9', 'registry.k8s.io/pause:3.9'],
    ['ghcr.io/a/b/c:v1.2-rc_3', 'ghcr.io/a/b/c:v1.2-rc_3'],
    ['Example.com/x', 'Example.com/x:latest'],
    ['[::1]:5000/x', '[::1]:5000/x:latest'],
    ['a__b/c.d-e', 'docker.io/a__b/c.d-e:latest'],
    [`busybox@${D}`, `docker.io/library/busybox@${D}`],
    [`busybox:1.36@${D}`, `docker.io/library/busybox@${D}`],
    [`127.0.0.1:5000/x:tag@${D}`, `127.0.0.1:5000/x@${D}`],
  ])('%s → %s', (input, want) => {
    expect(formatReference(parseReference(input))).toBe(want);
  });

  it('splits domain, path, tag and digest', () => {
    expect(parseReference('127.0.0.1:5000/team/app:v1')).toEqual({ domain: '127.0.0.1:5000', path: 'team/app', tag: 'v1' });
    expect(parseReference(`x@${D}`)).toEqual({ domain: 'docker.io', path: 'library/x', digest: D });
  });

  it.each([
    ['', /empty/],
    ['Busybox', /lowercase/],
    ['foo/Bar', /lowercase/],
    ['busybox:', /invalid tag/],
    ['busybox:-x', /invalid tag/],
    ['busybox:' + 'a'.repeat(129), /invalid tag/],
    ['bad host!/x', /whitespace|invalid/],
    ['foo//bar', /path component/],
    ['foo/-bar', /path component/],
    ['busybox@sha256:abc', /malformed digest/],
    ['busybox@md5:' + 'a'.repeat(32), /unsupported digest/],
    ['with space', /whitespace/],
    ['ab'.repeat(32), /image id/],
    [':tag', /missing repository/],
    ['exa_mple.com:5000/x', /registry host/],
    ['x/' + 'a'.repeat(260), /longer than 255/],
  ])('rejects %j', (input, why) => {
    let err: unknown;
    try {
      parseReference(input);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: Code.INVALID_ARGUMENT });
    expect((err as Error).message).toMatch(why);
  });
});
