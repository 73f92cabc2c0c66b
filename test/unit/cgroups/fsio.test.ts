import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CgroupFileError, cgroupFileError, readIfExists, readKernelFile, writeCgroupFile } from '../../../src/cgroups/fsio.js';
import { Code } from '../../../src/util/errors.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'berth-fsio-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('cgroup file I/O', () => {
  it('reads files larger than its buffer completely', () => {
    const big = Array.from({ length: 20000 }, (_, i) => String(100000 + i)).join('\n') + '\n';
    writeFileSync(join(dir, 'cgroup.procs'), big);
    expect(readKernelFile(join(dir, 'cgroup.procs'))).toBe(big);
    expect(readKernelFile(join(dir, 'cgroup.procs')).length).toBe(big.length); // and again, after the buffer grew
    expect(readIfExists(join(dir, 'nope'))).toBeUndefined();
  });

  it('writes by replacing the content, never creating a missing file', async () => {
    writeFileSync(join(dir, 'cpu.weight'), '100\n');
    await writeCgroupFile(join(dir, 'cpu.weight'), '5', 'cpu.weight=5');
    expect(readFileSync(join(dir, 'cpu.weight'), 'utf8')).toBe('5');
    await expect(writeCgroupFile(join(dir, 'cpu.idle'), '1', 'cpu.idle=1')).rejects.toThrow(
      `write cpu.idle=1 to ${join(dir, 'cpu.idle')}: ENOENT`,
    );
    expect(existsSync(join(dir, 'cpu.idle'))).toBe(false);
  });

  it('maps errnos to FAILED_PRECONDITION or INTERNAL and keeps path and errno', () => {
    const einval = cgroupFileError('write cpu.idle=1 to', '/sys/fs/cgroup/cpu/x/cpu.idle', Object.assign(new Error('x'), { code: 'EINVAL' }));
    expect(einval).toBeInstanceOf(CgroupFileError);
    expect(einval.code).toBe(Code.FAILED_PRECONDITION);
    expect(einval.message).toBe('write cpu.idle=1 to /sys/fs/cgroup/cpu/x/cpu.idle: EINVAL (the kernel rejected the value)');
    expect([einval.path, einval.errno]).toEqual(['/sys/fs/cgroup/cpu/x/cpu.idle', 'EINVAL']);
    const eio = cgroupFileError('read', '/x', Object.assign(new Error('io'), { code: 'EIO' }));
    expect(eio.code).toBe(Code.INTERNAL);
    expect(eio.message).toBe('read /x: EIO');
  });
});
