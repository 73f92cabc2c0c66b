import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KernelFiles } from '../../../src/sli/kernel-files.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'berth-kf-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('KernelFiles (descriptor cache)', () => {
  it('re-reads a cached file from offset 0, including content larger than the buffer', () => {
    const f = new KernelFiles();
    const p = join(dir, 'a');
    writeFileSync(p, 'one\n');
    expect(f.read(p)).toBe('one\n');
    writeFileSync(p, 'x'.repeat(40_000)); // same inode, new content
    expect(f.read(p)).toHaveLength(40_000);
    expect(f.size).toBe(1);
    f.close();
    expect(f.size).toBe(0);
  });

  it('sweep closes descriptors unused for several passes; forgetDir closes a directory at once', () => {
    const f = new KernelFiles();
    for (const n of ['a', 'b']) writeFileSync(join(dir, n), n);
    f.read(join(dir, 'a'));
    f.read(join(dir, 'b'));
    for (let i = 0; i < 12; i++) {
      f.read(join(dir, 'a'));
      f.sweep();
    }
    expect(f.size).toBe(2);
    f.read(join(dir, 'a'));
    f.sweep();
    expect(f.size).toBe(1);
    f.forgetDir(dir.slice(dir.lastIndexOf('/')));
    expect(f.size).toBe(0);
  });

  it('keepSweeps: a descriptor not read during that many sweeps is closed', () => {
    const f = new KernelFiles({ keepSweeps: 2 });
    writeFileSync(join(dir, 'a'), 'a');
    f.read(join(dir, 'a'));
    f.sweep();
    f.sweep();
    expect(f.size).toBe(1);
    f.sweep();
    expect(f.size).toBe(0);
    expect(f.read(join(dir, 'a'))).toBe('a'); // read afresh
    f.close();
  });

  it('keeps at most maxOpen descriptors and still reads past that', () => {
    const f = new KernelFiles({ maxOpen: 1 });
    for (const n of ['a', 'b']) writeFileSync(join(dir, n), n);
    expect(f.read(join(dir, 'a'))).toBe('a');
    expect(f.read(join(dir, 'b'))).toBe('b');
    expect(f.size).toBe(1);
    f.close();
  });

  it('throws the errno of a missing file, like readFileSync', () => {
    const f = new KernelFiles();
    expect(() => f.read(join(dir, 'nope'))).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });
});
