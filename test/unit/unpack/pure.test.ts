import { describe, expect, it } from 'vitest';
import { type BerthError, Code } from '../../../src/util/errors.js';
import {
  InvalidEntryError,
  classifyName,
  normalizeEntryPath,
  xattrDecision,
} from '../../../src/images/unpack/layer-path.js';
import { declaredCompression, detectCompression } from '../../../src/images/unpack/media-types.js';
import { decodeHeader, parseNumeric, parsePaxRecords, TarFormatError } from '../../../src/images/unpack/tar-header.js';
import { encodeEntryHeader } from '../../../src/images/unpack/tar-writer.js';
import { encodeXattrDump, escapeDumpName } from '../../../src/images/unpack/xattrs.js';

describe('normalizeEntryPath', () => {
  it('re-roots absolute names and drops . and empty parts', () => {
    expect(normalizeEntryPath('/etc/passwd')).toEqual(['etc', 'passwd']);
    expect(normalizeEntryPath('./usr//bin/./sh')).toEqual(['usr', 'bin', 'sh']);
    expect(normalizeEntryPath('./')).toEqual([]);
    expect(normalizeEntryPath('a/b/../c')).toEqual(['a', 'c']);
  });
  it('refuses names that climb out of the root', () => {
    expect(() => normalizeEntryPath('../evil')).toThrow(InvalidEntryError);
    expect(() => normalizeEntryPath('a/../../evil')).toThrow(InvalidEntryError);
    expect(() => normalizeEntryPath('/../etc/passwd')).toThrow(InvalidEntryError);
  });
});

describe('classifyName', () => {
  it('recognises whiteouts, opaque markers and aufs metadata', () => {
    expect(classifyName(['etc', '.wh.passwd'])).toEqual({ kind: 'whiteout', target: ['etc', 'passwd'] });
    expect(classifyName(['var', '.wh..wh..opq'])).toEqual({ kind: 'opaque', dir: ['var'] });
    expect(classifyName(['.wh..wh..opq'])).toEqual({ kind: 'opaque', dir: [] });
    expect(classifyName(['.wh..wh.plnk'])).toEqual({ kind: 'aufs-meta' });
    expect(classifyName(['.wh..wh.plnk', '1234'])).toEqual({ kind: 'aufs-meta' });
    expect(classifyName(['a', 'b.wh.c'])).toEqual({ kind: 'normal' });
  });
  it('refuses whiteouts without a usable name', () => {
    expect(() => classifyName(['a', '.wh.'])).toThrow(InvalidEntryError);
    expect(() => classifyName(['a', '.wh..'])).toThrow(InvalidEntryError);
    expect(() => classifyName(['a', '.wh...'])).toThrow(InvalidEntryError);
  });
});

describe('xattrDecision', () => {
  it('never takes trusted.* from an archive and keeps user.* to files and dirs', () => {
    expect(xattrDecision('security.capability', 'file')).toBe('apply');
    expect(xattrDecision('trusted.overlay.opaque', 'dir')).toBe('skip');
    expect(xattrDecision('trusted.overlay.redirect', 'dir')).toBe('skip');
    expect(xattrDecision('user.foo', 'file')).toBe('apply');
    expect(xattrDecision('user.foo', 'symlink')).toBe('skip');
    expect(xattrDecision('system.posix_acl_default', 'file')).toBe('skip');
    expect(xattrDecision('system.posix_acl_default', 'dir')).toBe('apply');
    expect(xattrDecision('bogus.ns', 'file')).toBe('skip');
  });
});

describe('compression', () => {
  it('sniffs magic bytes', () => {
    expect(detectCompression(Buffer.from([0x1f, 0x8b, 8, 0]))).toBe('gzip');
    expect(detectCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))).toBe('zstd');
    expect(detectCompression(Buffer.from([0x50, 0x2a, 0x4d, 0x18]))).toBe('zstd'); // skippable frame
    expect(detectCompression(Buffer.from('usr/'))).toBe('none');
    expect(detectCompression(Buffer.alloc(0))).toBe('none');
  });
  it('maps layer media types and refuses the rest', () => {
    expect(declaredCompression('application/vnd.oci.image.layer.v1.tar')).toBe('none');
    expect(declaredCompression('application/vnd.oci.image.layer.v1.tar+gzip')).toBe('gzip');
    expect(declaredCompression('application/vnd.oci.image.layer.nondistributable.v1.tar+zstd')).toBe('zstd');
    expect(declaredCompression('application/vnd.docker.image.rootfs.diff.tar.gzip')).toBe('gzip');
    expect(declaredCompression('application/vnd.docker.image.rootfs.foreign.diff.tar.gzip')).toBe('gzip');
    const codeOf = (mt: string): Code | undefined => {
      try {
        declaredCompression(mt);
      } catch (err) {
        return (err as BerthError).code;
      }
      return undefined;
    };
    expect(codeOf('application/vnd.oci.image.config.v1+json')).toBe(Code.INVALID_ARGUMENT);
    expect(codeOf('application/vnd.oci.image.layer.v1.tar+bzip2')).toBe(Code.INVALID_ARGUMENT);
    expect(codeOf('application/vnd.oci.image.layer.v1.tar+gzip+encrypted')).toBe(Code.UNIMPLEMENTED);
  });
});

describe('tar header decoding', () => {
  it('reads octal and GNU base-256 numbers', () => {
    const octal = Buffer.from('0000755\0');
    expect(parseNumeric(octal, 0, 8, 'mode')).toBe(0o755);
    const big = Buffer.alloc(12);
    big[0] = 0x80;
    big.writeUIntBE(10 * 2 ** 32 + 5, 6, 6);
    expect(parseNumeric(big, 0, 12, 'size')).toBe(10 * 2 ** 32 + 5);
    const neg = Buffer.alloc(12, 0xff); // -1 in two's complement
    expect(parseNumeric(neg, 0, 12, 'mtime')).toBe(-1);
    expect(() => parseNumeric(Buffer.from('12x\0'), 0, 4, 'mode')).toThrow(TarFormatError);
  });
  it('rejects a bad checksum and treats a zero block as the end', () => {
    const h = encodeEntryHeader({ name: 'a', type: 'file', size: 3 });
    expect(decodeHeader(h)?.name).toBe('a');
    h[0] = 0x62;
    expect(() => decodeHeader(h)).toThrow(TarFormatError);
    expect(decodeHeader(Buffer.alloc(512))).toBeNull();
  });
  it('keeps PAX values as raw bytes', () => {
    const value = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x80, 0xff, 0x0a, 0x00]);
    const rec = Buffer.concat([Buffer.from('45 SCHILY.xattr.security.capability='), value, Buffer.from('\n')]);
    expect(rec.length).toBe(45);
    const map = parsePaxRecords(rec);
    expect(map.get('SCHILY.xattr.security.capability')).toEqual(value);
    expect(() => parsePaxRecords(Buffer.from('99 path=x\n'))).toThrow(TarFormatError);
  });
});

describe('setfattr dump encoding', () => {
  it('escapes names and base64-encodes values', () => {
    expect(escapeDumpName('a b/\n=é')).toBe('a\\040b/\\012\\075\\303\\251');
    const dump = encodeXattrDump([{ path: 'usr/bin/ping', attrs: new Map([['security.capability', Buffer.from([1, 0, 0x80])]]) }]);
    expect(dump).toBe('# file: usr/bin/ping\nsecurity.capability=0sAQCA\n\n');
    expect(encodeXattrDump([{ path: '', attrs: new Map([['trusted.overlay.opaque', Buffer.from('y')]]) }])).toContain(
      '# file: .\n',
    );
  });
});
