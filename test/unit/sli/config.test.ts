import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../src/daemon/config.js';
import { DEFAULT_THRESHOLDS } from '../../../src/sli/verdict.js';

describe('metrics / sli configuration', () => {
  it('has the documented defaults', () => {
    const c = parseConfig({});
    expect(c.metrics).toEqual({ enabled: true, address: '127.0.0.1:9464', path: '/metrics', processMetrics: false });
    expect(c.sli).toMatchObject({ cgroupIntervalSeconds: 1, diskIntervalSeconds: 10, nodeIntervalSeconds: 1, nodeInfoIntervalSeconds: 3600, schedstatIntervalSeconds: 5, windowSeconds: 30 });
    expect(c.sli.thresholds).toEqual(DEFAULT_THRESHOLDS);
  });

  it('takes partial thresholds over the defaults', () => {
    const c = parseConfig({ sli: { thresholds: { cpuThrottledRatio: 0.5 } } });
    expect(c.sli.thresholds).toEqual({ ...DEFAULT_THRESHOLDS, cpuThrottledRatio: 0.5 });
  });

  it.each([
    [{ metrics: { address: 'nope' } }, /metrics\.address: expected host:port/],
    [{ metrics: { path: 'metrics' } }, /metrics\.path/],
    [{ sli: { nodeIntervalSeconds: 0 } }, /sli\.nodeIntervalSeconds/],
    [{ sli: { thresholds: { cpuPressure: -1 } } }, /sli\.thresholds\.cpuPressure/],
    [{ sli: { thresholds: { bogus: 1 } } }, /sli\.thresholds: unknown key/],
  ])('names the bad key: %j', (input, err) => {
    expect(() => parseConfig(input)).toThrow(ConfigError);
    expect(() => parseConfig(input)).toThrow(err);
  });
});
