import { describe, expect, it } from 'vitest';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, parseConfig, ConfigError } from '../../../src/daemon/config.js';

describe('config', () => {
  it('has embedded defaults for every key', () => {
    const c = parseConfig({});
    expect(c.listen).toBe('unix:///run/berth/berth.sock');
    expect(c.root).toBe('/var/lib/berth');
    expect(c.state).toBe('/run/berth');
    expect(c.sandboxImage).toBe('registry.k8s.io/pause:3.9');
    expect(c.registry).toMatchObject({ mirrors: {}, insecure: [], auths: {} });
  });

  it('names offending keys, including unknown ones', () => {
    const bad = { root: 'relative', registry: { mirrors: { 'docker.io': ['ftp://x'] }, auths: { h: { user: 'x' } } }, colour: 1 };
    let msg = '';
    try {
      parseConfig(bad, 'test.yaml');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      msg = (e as Error).message;
    }
    expect(msg).toContain('test.yaml');
    expect(msg).toContain('root: expected an absolute path');
    expect(msg).toContain('registry.mirrors.docker.io[0]');
    expect(msg).toContain('registry.auths.h: unknown key(s) "user"');
    expect(msg).toContain('(top level): unknown key(s) "colour"');
  });

  it('layers file then flags; a missing explicit file is an error, a missing default is not', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-cfg-'));
    try {
      const f = join(dir, 'c.yaml');
      await writeFile(f, 'root: /srv/berth\nlogLevel: debug\nregistry:\n  insecure: ["127.0.0.1:5000"]\n');
      const { config, source } = await loadConfig({ config: f, root: '/flag/root' });
      expect(source).toBe(f);
      expect(config.root).toBe('/flag/root');
      expect(config.logLevel).toBe('debug');
      expect(config.registry.insecure).toEqual(['127.0.0.1:5000']);
      await expect(loadConfig({ config: join(dir, 'missing.yaml') })).rejects.toThrow(/cannot read configuration/);
      await writeFile(f, '- a list\n');
      await expect(loadConfig({ config: f })).rejects.toThrow(/must be a mapping/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
