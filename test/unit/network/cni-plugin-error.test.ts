import { describe, expect, it } from 'vitest';
import { CniPluginError, describeCniCode, parsePluginFailure } from '../../../src/network/cni/plugin-error.js';
import { Code } from '../../../src/util/errors.js';

const ctx = { plugin: 'bridge', command: 'ADD' as const, network: 'berth', containerId: 'p1' };

describe('CNI plugin errors', () => {
  it('reads the error object a plugin prints on stdout', () => {
    const f = parsePluginFailure('{"cniVersion":"1.0.0","code":7,"msg":"bad bridge name","details":"name too long"}', 'noise', 'exit status 1');
    expect(f).toEqual({ cniCode: 7, msg: 'bad bridge name', details: 'name too long' });
    const e = new CniPluginError(ctx, f);
    expect(e.message).toBe('CNI plugin bridge ADD (network berth, pod p1) failed: bad bridge name [CNI error 7: invalid network config] (name too long)');
    expect(e.code).toBe(Code.FAILED_PRECONDITION);
    expect(e.cniCode).toBe(7);
    expect(e.plugin).toBe('bridge');
  });

  it('falls back to stderr, then stdout, then the exit status', () => {
    expect(parsePluginFailure('', 'panic: boom\n', 'exit status 2')).toEqual({ msg: 'panic: boom' });
    expect(parsePluginFailure('{not json', '', 'exit status 2')).toEqual({ msg: '{not json' });
    expect(parsePluginFailure('{"other":1}', '', 'exit status 2')).toEqual({ msg: '{"other":1}' });
    expect(parsePluginFailure('', '', 'killed by SIGSEGV')).toEqual({ msg: 'killed by SIGSEGV' });
    expect(parsePluginFailure('', 'x'.repeat(5000), 'exit 1').msg.length).toBeLessThan(2100);
  });

  it('maps CNI codes to gRPC codes', () => {
    expect(new CniPluginError(ctx, { cniCode: 11, msg: 'busy' }).code).toBe(Code.UNAVAILABLE);
    expect(new CniPluginError(ctx, { cniCode: 1, msg: 'old' }).code).toBe(Code.FAILED_PRECONDITION);
    expect(new CniPluginError(ctx, { cniCode: 999, msg: 'own' }).code).toBe(Code.INTERNAL);
    expect(new CniPluginError(ctx, { msg: 'x' }, Code.DEADLINE_EXCEEDED).code).toBe(Code.DEADLINE_EXCEEDED);
    expect(describeCniCode(3)).toBe('container unknown or does not exist');
    expect(describeCniCode(120)).toBe('plugin-specific error');
    expect(describeCniCode(42)).toBe('unknown error code');
  });
});
