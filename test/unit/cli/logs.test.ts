import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendFile, mkdtemp, rename, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CriRecordSplitter, LineAssembler, parseCriLine } from '../../../src/cli/logs/cri-format.js';
import { lastLines, streamLog } from '../../../src/cli/logs/follow.js';

const rec = (stream: string, tag: 'P' | 'F', content: string, ts = '2024-01-01T00:00:00.000000001Z') => `${ts} ${stream} ${tag} ${content}\n`;

describe('CRI log format', () => {
  it('parses records, including empty content and content with spaces', () => {
    expect(parseCriLine('2024-01-01T00:00:00Z stdout F hello world')).toEqual({ timestamp: '2024-01-01T00:00:00Z', stream: 'stdout', partial: false, content: 'hello world' });
    expect(parseCriLine('2024-01-01T00:00:00Z stderr P ')).toMatchObject({ stream: 'stderr', partial: true, content: '' });
    expect(parseCriLine('2024-01-01T00:00:00Z stderr F')).toMatchObject({ content: '' });
    expect(parseCriLine('garbage')).toBeUndefined();
  });

  it('holds an unfinished line until its newline arrives, across UTF-8 splits', () => {
    const s = new CriRecordSplitter();
    const line = Buffer.from(rec('stdout', 'F', 'héllo'));
    expect(s.push(line.subarray(0, 40))).toEqual([]);
    expect(s.push(line.subarray(40)).map((r) => r.content)).toEqual(['héllo']);
  });

  it('joins partial records into one line and prefixes timestamps once per line', () => {
    const a = new LineAssembler(true);
    const parts = [rec('stdout', 'P', 'ab', 'T1'), rec('stdout', 'F', 'cd', 'T2'), rec('stderr', 'F', 'e', 'T3')].map((l) => a.format(parseCriLine(l.trimEnd())!));
    expect(parts.join('')).toBe('T1 abcd\nT3 e\n');
  });

  it('lastLines counts whole lines, partial records included', () => {
    const rs = [rec('stdout', 'F', '1'), rec('stdout', 'P', '2a'), rec('stdout', 'F', '2b'), rec('stdout', 'F', '3')].map((l) => parseCriLine(l.trimEnd())!);
    expect(lastLines(rs, 2).map((r) => r.content)).toEqual(['2a', '2b', '3']);
    expect(lastLines(rs, 10)).toHaveLength(4);
    expect(lastLines(rs, 0)).toEqual([]);
  });
});

describe('streamLog', () => {
  let dir: string;
  let path: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-cli-logs-'));
    path = join(dir, '0.log');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const collect = () => {
    const out: string[] = [];
    return { out, write: (s: string, t: string) => out.push(`${s}:${t}`) };
  };

  it('prints the file (or its tail) without following', async () => {
    await writeFile(path, rec('stdout', 'F', 'a') + rec('stderr', 'F', 'b') + rec('stdout', 'F', 'c'));
    const all = collect();
    await streamLog({ path, follow: false, write: all.write });
    expect(all.out).toEqual(['stdout:a\n', 'stderr:b\n', 'stdout:c\n']);
    const tail = collect();
    await streamLog({ path, tail: 1, follow: false, write: tail.write });
    expect(tail.out).toEqual(['stdout:c\n']);
  });

  it('follows appends, unfinished lines, rotation and truncation, and stops once the container is done', async () => {
    await writeFile(path, rec('stdout', 'F', 'first'));
    const c = collect();
    let done = false;
    const seen = (text: string) => new Promise<void>((resolve) => {
      const t = setInterval(() => {
        if (c.out.join('').includes(text)) {
          clearInterval(t);
          resolve();
        }
      }, 5);
    });
    const p = streamLog({ path, follow: true, write: c.write, isDone: async () => done, pollMs: 10, doneCheckMs: 10 });
    await seen('first');
    const line = rec('stdout', 'F', 'second');
    await appendFile(path, line.slice(0, 20));
    await new Promise((r) => setTimeout(r, 50));
    expect(c.out.join('')).not.toContain('second');
    await appendFile(path, line.slice(20));
    await seen('second');
    // Rotation: the writer's file is renamed away and a new one takes its place.
    await appendFile(path, rec('stdout', 'F', 'last-in-old'));
    await rename(path, `${path}.1`);
    await writeFile(path, rec('stdout', 'F', 'in-new'));
    await seen('in-new');
    // Truncation: start again from the top.
    await truncate(path, 0);
    await new Promise((r) => setTimeout(r, 50));
    await appendFile(path, rec('stdout', 'F', 'after-truncate'));
    await seen('after-truncate');
    done = true;
    await p;
    expect(c.out).toEqual(['stdout:first\n', 'stdout:second\n', 'stdout:last-in-old\n', 'stdout:in-new\n', 'stdout:after-truncate\n']);
  });

  it('stops following when aborted', async () => {
    await writeFile(path, rec('stdout', 'F', 'x'));
    const abort = new AbortController();
    const p = streamLog({ path, follow: true, write: () => {}, signal: abort.signal, pollMs: 10 });
    setTimeout(() => abort.abort(), 30);
    await p;
  });
});
