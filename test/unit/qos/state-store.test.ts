/**
 * The QoS loop's saved state (src/qos/state-store.ts): what is saved comes back as it was, an
 * unchanged state is not written again, the newest of several saves wins, and a file that
 * cannot be used is ignored (the loop starts afresh) rather than taking berthd down.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { QosStateStore } from '../../../src/qos/state-store.js';
import { initialState, type QosState } from '../../../src/qos/strategies/types.js';
import { logger, setLogLevel } from '../../../src/util/log.js';

setLogLevel('silent');
const log = logger('test');
let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'berth-qos-state-'));
  file = join(dir, 'run', 'qos-state.json');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const sample = (): QosState => ({
  allowanceCores: 1.234,
  psiFactor: 0.49,
  psiPressurePct: 23.5,
  memory: { stepsAbove: 1 },
  exclusive: new Map([['c1', [3]], ['c2', [1, 2]]]),
  lastShares: new Map([['b1', 0.6], ['b2', 0.634]]),
});

describe('QoS state store', () => {
  it('gives back what was saved, Maps included, in a file only root can read', async () => {
    const s = new QosStateStore(file, log);
    expect(s.load()).toBeUndefined(); // no file yet: start afresh
    s.save(sample());
    await s.flush();
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const back = new QosStateStore(file, log).load();
    expect(back?.state).toEqual(sample());
    expect(Date.parse(back!.savedAt)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('writes only when the state changed, and the newest of queued saves wins', async () => {
    const s = new QosStateStore(file, log);
    s.save(sample());
    await s.flush();
    const first = readFileSync(file, 'utf8');
    writeFileSync(file, first.replace(/"savedAt":"[^"]+"/, '"savedAt":"marker"'));
    s.save(sample()); // same numbers: not written
    await s.flush();
    expect(readFileSync(file, 'utf8')).toContain('"savedAt":"marker"');

    for (let i = 1; i <= 5; i++) s.save({ ...sample(), allowanceCores: i });
    await s.flush();
    expect(new QosStateStore(file, log).load()?.state.allowanceCores).toBe(5);
  });

  it('ignores a torn, foreign or out-of-range file and starts afresh', async () => {
    const s = new QosStateStore(file, log);
    s.save(initialState());
    await s.flush();
    const good = readFileSync(file, 'utf8');
    expect(new QosStateStore(file, log).load()?.state).toEqual(initialState());
    for (const bad of [good.slice(0, 20), '{"version":2}', good.replace('"psiFactor":1', '"psiFactor":7'), '']) {
      writeFileSync(file, bad);
      expect(new QosStateStore(file, log).load()).toBeUndefined();
    }
  });

  it('keeps berthd going when the state cannot be written', async () => {
    writeFileSync(join(dir, 'run'), 'a file where the directory should be');
    const s = new QosStateStore(file, log);
    s.save(sample());
    await expect(s.flush()).resolves.toBeUndefined();
    expect(s.load()).toBeUndefined();
  });
});
