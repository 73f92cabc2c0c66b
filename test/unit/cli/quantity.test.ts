import { describe, expect, it } from 'vitest';
import { compareQuantities, intValue, milliValue, parseQuantity } from '../../../src/cli/manifest/quantity.js';

const milli = (s: string | number) => milliValue(parseQuantity(s)!);
const bytes = (s: string | number) => intValue(parseQuantity(s)!);

describe('Kubernetes quantities', () => {
  it('parses cpu forms to millicores, rounding up like MilliValue()', () => {
    expect(milli('500m')).toBe(500n);
    expect(milli('1')).toBe(1000n);
    expect(milli(0.5)).toBe(500n);
    expect(milli('1.5')).toBe(1500n);
    expect(milli('.25')).toBe(250n);
    expect(milli('0.0001')).toBe(1n);
    expect(milli('100u')).toBe(1n);
    expect(milli('2e-3')).toBe(2n);
    expect(parseQuantity('2e3m')).toBeUndefined();
  });

  it('parses memory forms to bytes, rounding up like Value()', () => {
    expect(bytes('128Mi')).toBe(128n * 1024n * 1024n);
    expect(bytes('1Gi')).toBe(1n << 30n);
    expect(bytes('1.5Ki')).toBe(1536n);
    expect(bytes('1G')).toBe(1_000_000_000n);
    expect(bytes('1k')).toBe(1000n);
    expect(bytes('1e3')).toBe(1000n);
    expect(bytes('1E3')).toBe(1000n);
    expect(bytes(65536)).toBe(65536n);
    expect(bytes('500m')).toBe(1n);
    expect(bytes('1Ei')).toBe(1n << 60n);
  });

  it('refuses what is not a quantity', () => {
    for (const bad of ['2x', '', 'Mi', '1 Mi', ' 1', '1KiB', '1e', '0x10', '1.2.3', 'abc', '1mi', '--1']) expect(parseQuantity(bad), bad).toBeUndefined();
    expect(parseQuantity(Number.NaN)).toBeUndefined();
  });

  it('compares exactly across suffixes', () => {
    expect(compareQuantities(parseQuantity('1Ki')!, parseQuantity('1024')!)).toBe(0);
    expect(compareQuantities(parseQuantity('1k')!, parseQuantity('1Ki')!)).toBe(-1);
    expect(compareQuantities(parseQuantity('2')!, parseQuantity('1500m')!)).toBe(1);
  });
});
