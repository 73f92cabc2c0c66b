import { describe, expect, it } from 'vitest';
import { layoutFromMounts, parseControllerList, parseMountinfo, parseProcCgroups } from '../../../src/cgroups/mountinfo.js';

const HYBRID = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;

const V1_COMOUNTED = `25 18 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
28 25 0:25 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,cpu,cpuacct
29 25 0:26 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:12 - cgroup cgroup rw,net_cls,net_prio
30 25 0:27 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,memory
31 25 0:28 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,memory
`;

const V2 = `22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw
26 22 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
40 22 0:35 / /sys/fs/resctrl rw,relatime shared:20 - resctrl resctrl rw
41 22 0:36 / /mnt/with\\040space rw - tmpfs tmpfs rw
`;

describe('parseMountinfo / layoutFromMounts', () => {
  it('finds a hybrid layout: v1 controllers, named systemd, unified cgroup2', () => {
    const l = layoutFromMounts(parseMountinfo(HYBRID));
    expect(l.mode).toBe('hybrid');
    expect(l.unified).toBe('/sys/fs/cgroup/unified');
    expect(l.v1).toEqual({
      cpu: '/sys/fs/cgroup/cpu',
      cpuacct: '/sys/fs/cgroup/cpuacct',
      cpuset: '/sys/fs/cgroup/cpuset',
      memory: '/sys/fs/cgroup/memory',
    });
    expect(l.named).toEqual({ systemd: '/sys/fs/cgroup/systemd' });
  });

  it('maps co-mounted controllers to one mountpoint and keeps the first of duplicate mounts', () => {
    const l = layoutFromMounts(parseMountinfo(V1_COMOUNTED));
    expect(l.mode).toBe('v1');
    expect(l.unified).toBeUndefined();
    expect(l.v1.cpu).toBe('/sys/fs/cgroup/cpu,cpuacct');
    expect(l.v1.cpuacct).toBe('/sys/fs/cgroup/cpu,cpuacct');
    expect(l.v1.net_prio).toBe('/sys/fs/cgroup/net_cls,net_prio');
    expect(l.v1.memory).toBe('/sys/fs/cgroup/memory');
    expect(Object.keys(l.v1)).not.toContain('rw');
  });

  it('finds a unified v2 layout and a resctrl mount; unescapes octal in paths', () => {
    const mounts = parseMountinfo(V2);
    const l = layoutFromMounts(mounts);
    expect(l.mode).toBe('v2');
    expect(l.unified).toBe('/sys/fs/cgroup');
    expect(l.v1).toEqual({});
    expect(l.resctrl).toBe('/sys/fs/resctrl');
    expect(mounts.map((m) => m.mountpoint)).toContain('/mnt/with space');
  });

  it('skips malformed lines', () => {
    expect(parseMountinfo('garbage\n\n1 2 3\n')).toEqual([]);
  });
});

describe('parseProcCgroups / parseControllerList', () => {
  it('lists enabled controllers only', () => {
    const text = '#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpuset\t3\t1\t1\ncpu\t1\t1\t1\nrdma\t0\t1\t0\n';
    expect(parseProcCgroups(text)).toEqual(['cpuset', 'cpu']);
  });
  it('splits controller lists', () => {
    expect(parseControllerList('cpuset cpu io memory\n')).toEqual(['cpuset', 'cpu', 'io', 'memory']);
    expect(parseControllerList('\n')).toEqual([]);
  });
});
