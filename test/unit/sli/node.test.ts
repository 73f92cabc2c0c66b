import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cpuUtilisation, parseKeyValue, parseLoadavg, parseMeminfo, parseProcStat, vmCounters } from '../../../src/sli/node-parse.js';
import { NodeCollector } from '../../../src/sli/node.js';
import { logger } from '../../../src/util/log.js';

const STAT = (busy: number, idle: number) => `cpu  ${busy * 2} 0 0 ${idle * 2} 0 0 0 0 0 0
cpu0 ${busy} 0 0 ${idle} 0 0 0 0 0 0
cpu1 ${busy} 0 0 ${idle} 0 0 0 0 0 0
intr 1 2 3
ctxt ${1000 + busy}
btime 1700000000
processes 42
procs_running 3
procs_blocked 1
`;

describe('node /proc parsers', () => {
  it('parses /proc/stat per core and derives utilisation from two readings', () => {
    const a = parseProcStat(STAT(100, 100))!;
    const b = parseProcStat(STAT(150, 150))!;
    expect(a.cores.size).toBe(2);
    expect(a.contextSwitches).toBe(1100);
    expect(a.procsRunning).toBe(3);
    expect(cpuUtilisation(a.total, b.total)).toBeCloseTo(0.5);
    expect(cpuUtilisation(a.cores.get(1)!, b.cores.get(1)!)).toBeCloseTo(0.5);
    expect(cpuUtilisation(a.total, a.total)).toBeUndefined();
    expect(parseProcStat('garbage')).toBeUndefined();
  });

  it('counts iowait as idle and steal/irq as busy', () => {
    const t0 = parseProcStat('cpu 0 0 0 0 0 0 0 0\n')!.total;
    const t1 = parseProcStat('cpu 10 0 0 40 40 5 0 5\n')!.total;
    expect(cpuUtilisation(t0, t1)).toBeCloseTo(0.2);
  });

  it('parses meminfo into bytes', () => {
    const m = parseMeminfo('MemTotal:       1000 kB\nMemAvailable:    500 kB\nCached: 10 kB\nHugePages_Total:       0\n');
    expect(m).toEqual({ MemTotal: 1024000, MemAvailable: 512000, Cached: 10240, HugePages_Total: 0 });
  });

  it('sums reclaim counters per reclaimer over zones and ignores pgscan_direct_throttle', () => {
    const v = vmCounters(
      parseKeyValue('pgscan_kswapd 5\npgscan_direct 7\npgscan_direct_throttle 99\npgscan_anon 3\npgsteal_kswapd_normal 2\npgsteal_kswapd_dma32 1\nallocstall_normal 4\nallocstall_movable 1\ncompact_stall 6\noom_kill 2\npgmajfault 11\n'),
    );
    expect(v.pgscan).toEqual({ kswapd: 5, direct: 7 });
    expect(v.pgsteal).toEqual({ kswapd: 3 });
    expect(v.allocstall).toBe(5);
    expect(v.compactStall).toBe(6);
    expect(v.oomKill).toBe(2);
    expect(v.pgmajfault).toBe(11);
  });

  it('parses loadavg and refuses garbage', () => {
    expect(parseLoadavg('0.50 0.40 0.30 2/345 12345\n')).toEqual({ load1: 0.5, load5: 0.4, load15: 0.3, running: 2, tasks: 345 });
    expect(parseLoadavg('x y')).toBeUndefined();
  });
});

describe('node collector over a fake /proc', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  function fakeProc(psi: boolean): string {
    dir = mkdtempSync(join(tmpdir(), 'berth-sli-proc-'));
    writeFileSync(join(dir, 'stat'), STAT(100, 100));
    writeFileSync(join(dir, 'meminfo'), 'MemTotal: 2000 kB\nMemFree: 1000 kB\nMemAvailable: 1500 kB\nBuffers: 1 kB\nCached: 300 kB\n');
    writeFileSync(join(dir, 'loadavg'), '1.00 0.50 0.25 1/100 999\n');
    writeFileSync(join(dir, 'vmstat'), 'oom_kill 3\n');
    if (psi) {
      mkdirSync(join(dir, 'pressure'));
      writeFileSync(join(dir, 'pressure/cpu'), 'some avg10=12.50 avg60=1.00 avg300=0.10 total=2500000\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n');
      writeFileSync(join(dir, 'pressure/memory'), 'some avg10=0.00 avg60=0.00 avg300=0.00 total=7\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=3\n');
      writeFileSync(join(dir, 'pressure/io'), 'some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n');
    }
    return dir;
  }

  it('reads CPU, memory, PSI, load and vmstat; utilisation appears from the second pass', () => {
    const procRoot = fakeProc(true);
    const n = new NodeCollector(logger('test'), { procRoot, info: false });
    const first = n.collect();
    expect(first.cpu!.utilisation).toBeUndefined();
    expect(first.memory).toMatchObject({ totalBytes: 2048000, availableBytes: 1536000, pageCacheBytes: 307200 });
    expect(first.psi.cpu!.some.totalUs).toBe(2500000);
    expect(first.load!.load1).toBe(1);
    expect(first.vm!.oomKill).toBe(3);
    expect(first.missing).toEqual({});
    writeFileSync(join(procRoot, 'stat'), STAT(190, 110)); // in place: the cached descriptor re-reads it
    const second = n.collect();
    expect(second.cpu!.utilisation).toBeCloseTo(0.9);
    expect(second.cpu!.perCore.map((c) => c.cpu)).toEqual([0, 1]);
    n.stop();
  });

  it('a kernel without PSI or vmstat: those parts are absent and say why, the rest is there', () => {
    const procRoot = fakeProc(false);
    rmSync(join(procRoot, 'vmstat'));
    const n = new NodeCollector(logger('test'), { procRoot, info: false });
    const s = n.collect();
    expect(s.psi).toEqual({ cpu: undefined, memory: undefined, io: undefined });
    expect(s.missing.psi).toMatch(/PSI/);
    expect(s.missing.vmstat).toMatch(/ENOENT/);
    expect(s.vm).toBeUndefined();
    expect(s.memory!.totalBytes).toBe(2048000);
    n.stop();
  });
});
