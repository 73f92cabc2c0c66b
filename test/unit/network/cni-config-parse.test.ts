import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfigFile, selectConfigFiles } from '../../../src/network/cni/config-parse.js';

const list = (over: Record<string, unknown> = {}) =>
  JSON.stringify({ cniVersion: '1.0.0', name: 'net', plugins: [{ type: 'bridge' }, { type: 'portmap', capabilities: { portMappings: true } }], ...over });

function errorOf(file: string, text: string): string {
  try {
    parseConfigFile(file, text);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('CNI config files', () => {
  it('selects .conflist, .conf and .json files in byte order, like libcni', () => {
    expect(selectConfigFiles(['99-z.conf', '10-b.conflist', 'README', '10-a.json', '05-x.conf.bak', '10-B.conflist'])).toEqual([
      '10-B.conflist',
      '10-a.json',
      '10-b.conflist',
      '99-z.conf',
    ]);
  });

  it('reads a list', () => {
    const l = parseConfigFile('/d/10-net.conflist', list({ disableCheck: true }));
    expect(l).toMatchObject({ name: 'net', cniVersion: '1.0.0', disableCheck: true, source: '/d/10-net.conflist' });
    expect(l.plugins.map((p) => p.type)).toEqual(['bridge', 'portmap']);
  });

  it('wraps a single-plugin .conf into a list of one, without name/cniVersion in the plugin', () => {
    const l = parseConfigFile('/d/10-net.conf', JSON.stringify({ cniVersion: '0.4.0', name: 'n', type: 'bridge', bridge: 'b0' }));
    expect(l.cniVersion).toBe('0.4.0');
    expect(l.plugins).toEqual([{ type: 'bridge', bridge: 'b0' }]);
  });

  it('lets a .json file be either', () => {
    expect(parseConfigFile('/d/a.json', list()).plugins).toHaveLength(2);
    expect(parseConfigFile('/d/a.json', JSON.stringify({ cniVersion: '1.0.0', name: 'n', type: 'ptp' })).plugins).toHaveLength(1);
  });

  it('orders a 1.1 cniVersions list highest first, keeping only supported versions', () => {
    const l = parseConfigFile('/d/a.conflist', list({ cniVersion: undefined, cniVersions: ['0.4.0', '9.9.9', '1.1.0', '1.0.0'] }));
    expect(l.candidateVersions).toEqual(['1.1.0', '1.0.0', '0.4.0']);
    expect(l.cniVersion).toBe('1.1.0');
  });

  it('names the file and the problem', () => {
    expect(errorOf('/d/a.conflist', '{')).toMatch(/^CNI config \/d\/a.conflist: is not valid JSON/);
    expect(errorOf('/d/a.conflist', '[]')).toBe('CNI config /d/a.conflist: must hold a JSON object');
    expect(errorOf('/d/a.conflist', list({ cniVersion: undefined }))).toBe('CNI config /d/a.conflist: has no "cniVersion"');
    expect(errorOf('/d/a.conflist', list({ cniVersion: '0.2.0' }))).toBe(
      'CNI config /d/a.conflist: cniVersion 0.2.0 is not supported (supported: 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0)',
    );
    expect(errorOf('/d/a.conflist', list({ name: '' }))).toBe('CNI config /d/a.conflist: has no network "name"');
    expect(errorOf('/d/a.conflist', list({ name: '-bad name' }))).toContain('network name "-bad name" must start');
    expect(errorOf('/d/a.conflist', list({ plugins: [] }))).toContain('has no "plugins"');
    expect(errorOf('/d/a.conflist', list({ plugins: [{ type: 'bridge' }, { bridge: 'x' }] }))).toBe('CNI config /d/a.conflist: plugins[1] has no "type"');
    expect(errorOf('/d/a.conflist', list({ plugins: [{ type: '../../bin/sh' }] }))).toContain('plugins[0] has an invalid "type" "../../bin/sh"');
    expect(errorOf('/d/a.conflist', list({ plugins: [{ type: 'x', capabilities: { portMappings: 'yes' } }] }))).toContain(
      '"capabilities" must map names to true/false',
    );
    expect(errorOf('/d/a.conf', list())).toBe('CNI config /d/a.conf: holds a "plugins" list: name it .conflist');
    expect(errorOf('/d/a.conf', JSON.stringify({ cniVersion: '1.0.0', name: 'n' }))).toBe('CNI config /d/a.conf: the plugin has no "type"');
    expect(errorOf('/d/a.conflist', list({ disableCheck: 'yes' }))).toContain('"disableCheck" must be true or false');
  });
});
