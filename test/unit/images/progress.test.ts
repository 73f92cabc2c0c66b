import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { throttleDownloads, type PullProgress } from '../../../src/images/pull/progress.js';

const ev = (bytesDone: number, phase: PullProgress['phase'] = 'downloading', index = 0): PullProgress => ({
  ref: 'r',
  phase,
  layer: { index, digest: 'd', mediaType: 'm' },
  bytesDone,
  bytesTotal: 100,
});

describe('download progress throttle', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('passes the first event, coalesces a burst, and delivers the latest at the interval end', () => {
    const got: (number | undefined)[] = [];
    const emit = throttleDownloads((p) => got.push(p.bytesDone), 100);
    emit(ev(0));
    emit(ev(10));
    emit(ev(20));
    expect(got).toEqual([0]);
    vi.advanceTimersByTime(100);
    expect(got).toEqual([0, 20]);
    emit(ev(100)); // complete: always passes
    expect(got).toEqual([0, 20, 100]);
  });

  it('drops a pending event when a later phase arrives, and keeps layers apart', () => {
    const got: string[] = [];
    const emit = throttleDownloads((p) => got.push(`${p.layer?.index}:${p.phase}:${p.bytesDone ?? ''}`), 100);
    emit(ev(0, 'downloading', 0));
    emit(ev(0, 'downloading', 1));
    emit(ev(50, 'downloading', 0));
    emit(ev(100, 'downloaded', 0));
    vi.advanceTimersByTime(200);
    expect(got).toEqual(['0:downloading:0', '1:downloading:0', '0:downloaded:100']);
  });
});
