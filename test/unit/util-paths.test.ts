import { describe, expect, it } from 'vitest';
import { joinWithin, requireCleanAbsolute } from '../../src/util/paths.js';
import { BerthError, Code } from '../../src/util/errors.js';

describe('joinWithin', () => {
  it('joins relative and absolute-looking paths under the root', () => {
    expect(joinWithin('/r', 'a/b')).toBe('/r/a/b');
    expect(joinWithin('/r', '/a/b')).toBe('/r/a/b');
    expect(joinWithin('/r', 'a/../b')).toBe('/r/b');
    expect(joinWithin('/r', '/../../etc')).toBe('/r/etc');
  });
  it('refuses escapes with INVALID_ARGUMENT', () => {
    for (const bad of ['..', '../x', 'a/../../x']) {
      try {
        joinWithin('/r', bad);
        expect.fail(`accepted ${bad}`);
      } catch (e) {
        expect(e).toBeInstanceOf(BerthError);
        expect((e as BerthError).code).toBe(Code.INVALID_ARGUMENT);
      }
    }
  });
});

describe('requireCleanAbsolute', () => {
  it('accepts clean absolute paths and refuses relative or dotted ones', () => {
    expect(requireCleanAbsolute('/var/log/pods', 'log_directory')).toBe('/var/log/pods');
    expect(() => requireCleanAbsolute('var/log', 'log_directory')).toThrow(/absolute/);
    expect(() => requireCleanAbsolute('/var/../etc', 'log_directory')).toThrow(/\.\./);
  });
});
