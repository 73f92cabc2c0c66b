import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CriLogWriter, LineSplitter, MAX_LINE, formatRecord } from '../../../src/runtimes/io/cri-log.js';
import { rfc3339Nano } from '../../../src/runtimes/io/clock.js';

function split(chunks: (string | Buffer)[]): [string, boolean][] {
  const out: [string, boolean][] = [];
  const s = new LineSplitter((c, p) => out.push([c.toString(), p]));
  for (const c of chunks) s.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
  s.end();
  return out;
}

describe('LineSplitter', () => {
  it('splits on newlines across chunk boundaries', () => {
    expect(split(['a', 'b\nc', 'd\n\ne'])).toEqual([
      ['ab', false],
      ['cd', false],
      ['', false],
      ['e', false],
    ]);
  });
  it('cuts lines longer than 16 KiB into P records ending with F', () => {
    const long = 'x'.repeat(MAX_LINE * 2 + 10);
    const recs = split([long.slice(0, 1000), long.slice(1000) + '\nnext\n']);
    expect(recs.map(([c, p]) => [c.length, p])).toEqual([
      [MAX_LINE, true],
      [MAX_LINE, true],
      [10, false],
      [4, false],
    ]);
  });
});

describe('CRI log format', () => {
  it('formats RFC3339Nano timestamps with nine fraction digits', () => {
    expect(rfc3339Nano(1_700_000_000_123_456_789n)).toBe('2023-11-14T22:13:20.123456789Z');
    expect(formatRecord('stderr', true, Buffer.from('hi'), 'T').toString()).toBe('T stderr P hi\n');
  });

  it('writes both streams to one file and follows a rotation on reopen', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-log-'));
    try {
      const path = join(dir, 'pod', 'c', '0.log');
      const w = await CriLogWriter.open(path);
      const out = new PassThrough();
      const err = new PassThrough();
      const done = Promise.all([w.attach(out, 'stdout'), w.attach(err, 'stderr')]);
      out.write('hello\n');
      await new Promise((r) => setTimeout(r, 20));
      err.write('oops\n');
      await new Promise((r) => setTimeout(r, 20));
      await rename(path, path + '.1');
      await w.reopen();
      out.write('after\n');
      out.end('tail');
      err.end();
      await done;
      await w.close();
      const first = (await readFile(path + '.1', 'utf8')).trim().split('\n');
      const second = (await readFile(path, 'utf8')).trim().split('\n');
      expect(first.map((l) => l.replace(/^\S+ /, ''))).toEqual(['stdout F hello', 'stderr F oops']);
      expect(second.map((l) => l.replace(/^\S+ /, ''))).toEqual(['stdout F after', 'stdout F tail']);
      for (const l of [...first, ...second]) expect(l).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z (stdout|stderr) [PF] /);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
