import { describe, expect, it } from 'vitest';
import {
  blkioV1ToDevices,
  parseBlkioV1,
  parseCpuMax,
  parseFlatKeyed,
  parseInteger,
  parseIoStat,
  parseLimit,
  parseNumberList,
  parsePids,
  parsePressure,
  parseWeight,
} from '../../../src/cgroups/parse.js';

describe('parseFlatKeyed', () => {
  it('parses v1 and v2 cpu.stat and oom_control', () => {
    expect(parseFlatKeyed('nr_periods 10\nnr_throttled 2\nthrottled_time 12345\nnr_bursts 0\nburst_time 0\n')).toEqual({
      nr_periods: 10,
      nr_throttled: 2,
      throttled_time: 12345,
      nr_bursts: 0,
      burst_time: 0,
    });
    expect(parseFlatKeyed('oom_kill_disable 0\nunder_oom 0\noom_kill 3')).toEqual({ oom_kill_disable: 0, under_oom: 0, oom_kill: 3 });
    expect(parseFlatKeyed('usage_usec 7\n\nweird\nbad x\n')).toEqual({ usage_usec: 7 });
  });
});

describe('single values', () => {
  it('parses limits with every spelling of unlimited', () => {
    expect(parseLimit('max\n')).toBe('max');
    expect(parseLimit('-1\n')).toBe('max');
    expect(parseLimit('9223372036854771712\n')).toBe('max');
    expect(parseLimit('99999744\n')).toBe(99999744);
    expect(parseLimit('0')).toBe(0);
    expect(parseLimit('abc')).toBeUndefined();
  });
  it('parses integers, cpu.max, weights, number lists and pids', () => {
    expect(parseInteger(' -1\n')).toBe(-1);
    expect(parseInteger('1.5')).toBeUndefined();
    expect(parseCpuMax('max 100000\n')).toEqual({ quota: 'max', period: 100000 });
    expect(parseCpuMax('50000 100000\n')).toEqual({ quota: 50000, period: 100000 });
    expect(parseCpuMax('50000')).toBeUndefined();
    expect(parseWeight('default 100\n8:0 200\n')).toBe(100);
    expect(parseWeight('300\n')).toBe(300);
    expect(parseWeight('x')).toBeUndefined();
    expect(parseNumberList('10 20 30 \n')).toEqual([10, 20, 30]);
    expect(parsePids('12\n345\n\n')).toEqual([12, 345]);
  });
});

describe('io stats', () => {
  it('parses v2 io.stat', () => {
    const text = '8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n253:1 rbytes=1 wbytes=0 rios=1 wios=0\n';
    expect(parseIoStat(text)).toEqual([
      { major: 8, minor: 0, readBytes: 4096, writeBytes: 8192, reads: 1, writes: 2 },
      { major: 253, minor: 1, readBytes: 1, writeBytes: 0, reads: 1, writes: 0 },
    ]);
  });
  it('parses v1 blkio.throttle tables and merges bytes with ops', () => {
    const bytes = parseBlkioV1('8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 0\n8:0 Async 12288\n8:0 Discard 0\n8:0 Total 12288\nTotal 12288\n');
    const ops = parseBlkioV1('8:0 Read 1\n8:0 Write 2\n8:0 Total 3\nTotal 3\n');
    expect(blkioV1ToDevices(bytes, ops)).toEqual([{ major: 8, minor: 0, readBytes: 4096, writeBytes: 8192, reads: 1, writes: 2 }]);
    expect(blkioV1ToDevices(parseBlkioV1('Total 0\n'), parseBlkioV1(''))).toEqual([]);
  });
});

describe('parsePressure', () => {
  it('parses some and full lines', () => {
    const p = parsePressure('some avg10=4.19 avg60=2.72 avg300=3.50 total=23933490\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n');
    expect(p).toEqual({
      some: { avg10: 4.19, avg60: 2.72, avg300: 3.5, totalUs: 23933490 },
      full: { avg10: 0, avg60: 0, avg300: 0, totalUs: 0 },
    });
  });
  it('accepts a file without a full line (node cpu before 5.13) and rejects garbage', () => {
    expect(parsePressure('some avg10=1.00 avg60=0.00 avg300=0.00 total=5\n')).toEqual({ some: { avg10: 1, avg60: 0, avg300: 0, totalUs: 5 } });
    expect(parsePressure('')).toBeUndefined();
    expect(parsePressure('full avg10=1.00 avg60=0.00 avg300=0.00 total=5\n')).toBeUndefined();
  });
  it('reads each field by name, wherever it is on its line; a missing one reads 0', () => {
    expect(parsePressure('full total=7 avg10=0.10\n  some avg300=99.99 total=18446744073 avg60=12.5\n')).toEqual({
      some: { avg10: 0, avg60: 12.5, avg300: 99.99, totalUs: 18446744073 },
      full: { avg10: 0.1, avg60: 0, avg300: 0, totalUs: 7 },
    });
  });
});
