/**
 * A fake cgroup v2 host in a temp dir, for unit tests of the v2 code paths on a v1 machine:
 *   <root>/proc/self/mountinfo   lists a cgroup2 mount at <root>/sys/fs/cgroup
 *   <root>/proc/{cgroups,filesystems,pressure/*,sys/kernel/sched_schedstats,self/smaps}
 *   <root>/sys/fs/cgroup/...     regular files laid out like a unified hierarchy
 * It is NOT a kernel: writes are stored verbatim (no page rounding, no list normalisation,
 * mkdir makes an empty directory and rmdir of a populated one fails). Tests using it must say
 * "(fake v2 tree)" in their names.
 */
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface FakeCgroupfsOptions {
  /** Root cgroup.controllers (default: cpuset cpu io memory hugetlb pids rdma misc). */
  controllers?: string[];
  /** Root cgroup.subtree_control (default: same as controllers). */
  subtreeControl?: string[];
  /** Write /proc/pressure/* (default true). */
  psi?: boolean;
  /** Content of /proc/sys/kernel/sched_schedstats; null = file absent (default "0"). */
  schedstats?: string | null;
  /** Extra mountinfo lines (e.g. a resctrl mount). */
  extraMountinfo?: string[];
  pageSizeKb?: number;
}

export interface FakeCgroupfs {
  root: string;
  procRoot: string;
  cgroupRoot: string;
  /** Create a cgroup dir with the usual v2 files; `files` overrides or adds files, `omit` removes. */
  addCgroup(path: string, files?: Record<string, string>, omit?: string[]): string;
  write(path: string, file: string, content: string): void;
  read(path: string, file: string): string;
  has(path: string, file: string): boolean;
  cleanup(): void;
}

const PSI = 'some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n';

/** A busy v2 cgroup's stat files with known numbers (CPU, memory with a working set, events, pids, PSI). */
export const SAMPLE_V2_STATS: Readonly<Record<string, string>> = {
  'cpu.stat': 'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 10\nnr_throttled 3\nthrottled_usec 700\nnr_bursts 1\nburst_usec 20\n',
  'memory.current': '10000000\n',
  'memory.max': '20000000\n',
  'memory.peak': '12000000\n',
  'memory.stat': 'anon 6000000\nfile 4000000\nfile_mapped 100\ninactive_file 3000000\nactive_file 1000000\npgfault 42\npgmajfault 2\n',
  'memory.events': 'low 0\nhigh 5\nmax 7\noom 1\noom_kill 1\noom_group_kill 0\n',
  'pids.current': '3\n',
  'pids.max': '100\n',
  'cpu.pressure': 'some avg10=1.50 avg60=0.50 avg300=0.10 total=1234\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n',
};

/** Files of a non-root v2 cgroup with every controller enabled by its parent. */
export function defaultV2Files(controllers: string[]): Record<string, string> {
  return {
    'cgroup.procs': '',
    'cgroup.threads': '',
    'cgroup.controllers': controllers.join(' ') + '\n',
    'cgroup.subtree_control': '\n',
    'cgroup.events': 'populated 0\nfrozen 0\n',
    'cgroup.freeze': '0\n',
    'cgroup.kill': '',
    'cgroup.type': 'domain\n',
    'cgroup.pressure': '1\n',
    'cpu.weight': '100\n',
    'cpu.weight.nice': '0\n',
    'cpu.max': 'max 100000\n',
    'cpu.max.burst': '0\n',
    'cpu.idle': '0\n',
    'cpu.stat':
      'usage_usec 0\nuser_usec 0\nsystem_usec 0\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0\nnr_bursts 0\nburst_usec 0\n',
    'cpu.pressure': PSI,
    'cpuset.cpus': '\n',
    'cpuset.mems': '\n',
    'cpuset.cpus.effective': '0-1\n',
    'memory.current': '0\n',
    'memory.peak': '0\n',
    'memory.max': 'max\n',
    'memory.high': 'max\n',
    'memory.low': '0\n',
    'memory.min': '0\n',
    'memory.swap.max': 'max\n',
    'memory.swap.current': '0\n',
    'memory.oom.group': '0\n',
    'memory.stat': 'anon 0\nfile 0\nkernel 0\nfile_mapped 0\ninactive_anon 0\nactive_anon 0\ninactive_file 0\nactive_file 0\npgfault 0\npgmajfault 0\n',
    'memory.events': 'low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n',
    'memory.pressure': PSI,
    'pids.current': '0\n',
    'pids.max': 'max\n',
    'pids.peak': '0\n',
    'io.weight': 'default 100\n',
    'io.max': '',
    'io.stat': '',
    'io.pressure': PSI,
  };
}

export function createFakeCgroupfs(opts: FakeCgroupfsOptions = {}): FakeCgroupfs {
  const root = mkdtempSync(join(tmpdir(), 'berth-fake-cgroupfs-'));
  const procRoot = join(root, 'proc');
  const cgroupRoot = join(root, 'sys/fs/cgroup');
  const controllers = opts.controllers ?? ['cpuset', 'cpu', 'io', 'memory', 'hugetlb', 'pids', 'rdma', 'misc'];
  const subtree = opts.subtreeControl ?? controllers;

  const put = (path: string, content: string) => {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
  };
  const mountinfo = [
    `25 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw`,
    `30 25 0:26 / ${cgroupRoot} rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot`,
    ...(opts.extraMountinfo ?? []),
  ];
  put(join(procRoot, 'self/mountinfo'), mountinfo.join('\n') + '\n');
  put(join(procRoot, 'cgroups'), '#subsys_name\thierarchy\tnum_cgroups\tenabled\n' + controllers.map((c) => `${c}\t0\t1\t1`).join('\n') + '\n');
  put(join(procRoot, 'filesystems'), 'nodev\tcgroup\nnodev\tcgroup2\n');
  put(join(procRoot, 'self/smaps'), `55d0c0000000-55d0c0001000 r--p 00000000 08:01 1 /usr/bin/node\nSize:                  4 kB\nKernelPageSize:        ${opts.pageSizeKb ?? 4} kB\n`);
  if (opts.psi ?? true) for (const r of ['cpu', 'memory', 'io']) put(join(procRoot, 'pressure', r), PSI);
  if (opts.schedstats !== null) put(join(procRoot, 'sys/kernel/sched_schedstats'), `${opts.schedstats ?? '0'}\n`);

  const rootFiles: Record<string, string> = {
    'cgroup.procs': '1\n',
    'cgroup.controllers': controllers.join(' ') + '\n',
    'cgroup.subtree_control': subtree.join(' ') + '\n',
    'cgroup.max.depth': 'max\n',
    'cpu.stat': 'usage_usec 0\nuser_usec 0\nsystem_usec 0\n',
    'cpu.pressure': PSI,
    'memory.pressure': PSI,
    'io.pressure': PSI,
    'memory.stat': 'anon 0\nfile 0\n',
  };
  for (const [f, c] of Object.entries(rootFiles)) put(join(cgroupRoot, f), c);

  const fake: FakeCgroupfs = {
    root,
    procRoot,
    cgroupRoot,
    addCgroup(path, files = {}, omit = []) {
      const dir = join(cgroupRoot, path);
      mkdirSync(dir, { recursive: true });
      const all = { ...defaultV2Files(subtree), ...files };
      for (const f of omit) delete all[f];
      for (const [f, c] of Object.entries(all)) writeFileSync(join(dir, f), c);
      return dir;
    },
    write(path, file, content) {
      writeFileSync(join(cgroupRoot, path, file), content);
    },
    read(path, file) {
      return readFileSync(join(cgroupRoot, path, file), 'utf8');
    },
    has(path, file) {
      return existsSync(join(cgroupRoot, path, file));
    },
    cleanup() {
      rmSync(root, { recursive: true, force: true });
    },
  };
  return fake;
}
