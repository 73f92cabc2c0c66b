import { describe, expect, it } from 'vitest';
import { globMatch, withPassthroughAnnotations } from '../../../src/runtimes/oci/opts/annotations.js';
import { blankSpec, ctxWith } from './helpers.js';

describe('annotation passthrough', () => {
  it.each([
    ['io.katacontainers.*', 'io.katacontainers.config.hypervisor.default_vcpus', true],
    ['io.katacontainers.*', 'io.kata', false],
    ['*', 'example.com/x', false],
    ['example.com/*', 'example.com/x', true],
    ['a?c', 'abc', true],
    ['a.c', 'abc', false],
  ])('%s vs %s → %s', (p, k, want) => {
    expect(globMatch(p, k)).toBe(want);
  });

  it('copies only matching keys', async () => {
    const spec = blankSpec();
    await withPassthroughAnnotations({ 'io.katacontainers.x': '1', other: '2' }, ['io.katacontainers.*'])(spec, ctxWith());
    expect(spec.annotations).toEqual({ 'io.katacontainers.x': '1' });
  });
});
