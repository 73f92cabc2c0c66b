/**
 * Network readiness against the real plugin binaries (their VERSION answers): which file is
 * picked, why it is not ready, and that changes in the conf dir are picked up without a
 * restart (fs.watch, and re-checks on demand).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CniManager, defaultConflist, writeDefaultConfigIfEmpty } from '../../../src/network/cni/index.js';
import { ConfigWatcher } from '../../../src/network/cni/config-watcher.js';
import { VersionProbe } from '../../../src/network/cni/plugins.js';
import { Code } from '../../../src/util/errors.js';
import { PLUGIN_DIR } from './cni-fixture.js';

const bridgeOnly = (name: string, cniVersion = '1.0.0') => ({
  cniVersion,
  name,
  plugins: [{ type: 'bridge', bridge: 'btstatus0', ipam: { type: 'host-local', subnet: '10.250.254.0/24' } }],
});

async function until<T>(what: string, get: () => T, ok: (v: T) => boolean, ms = 8000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = get();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`${what}: still ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('CNI network readiness', () => {
  let root = '';
  let confDir = '';
  const open: { close(): void }[] = [];

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'berth-cni-status-'));
    confDir = join(root, 'net.d');
    await mkdir(confDir);
  });
  afterEach(async () => {
    for (const m of open.splice(0)) m.close();
    await rm(root, { recursive: true, force: true });
  });
  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  async function manager(watch: boolean): Promise<CniManager> {
    const m = await CniManager.open({ confDir, binDirs: [PLUGIN_DIR, join(root, 'nobin')], cacheDir: join(root, 'cache'), watch });
    open.push(m);
    return m;
  }

  it('is not ready with an empty dir, names a missing plugin, and becomes ready when a valid list is dropped in', async () => {
    const cni = await manager(true);
    expect(cni.status()).toMatchObject({ ready: false, reason: 'NoNetworkConfig' });
    expect(cni.status().message).toContain(confDir);

    const list = { ...bridgeOnly('net-a'), plugins: [...bridgeOnly('net-a').plugins, { type: 'nosuchplugin' }] };
    await writeFile(join(confDir, '10-a.conflist'), JSON.stringify(list));
    const missing = await until('missing plugin noticed', () => cni.status(), (s) => s.reason === 'PluginNotFound');
    expect(missing.ready).toBe(false);
    expect(missing.message).toBe(
      `CNI network net-a (${confDir}/10-a.conflist): plugin binaries not found in ${PLUGIN_DIR}:${root}/nobin: nosuchplugin`,
    );
    const err = await cni.setup({ podId: 'p1', netnsPath: '/run/netns/none' }).catch((e: unknown) => e);
    expect((err as { code: Code }).code).toBe(Code.FAILED_PRECONDITION);
    expect((err as Error).message).toContain('nosuchplugin');

    await writeFile(join(confDir, '10-a.conflist'), JSON.stringify(bridgeOnly('net-a')));
    const ready = await until('valid list noticed', () => cni.status(), (s) => s.ready);
    expect(ready.config).toMatchObject({
      file: `${confDir}/10-a.conflist`,
      name: 'net-a',
      cniVersion: '1.0.0',
      plugins: [{ type: 'bridge', path: `${PLUGIN_DIR}/bridge` }],
      loopback: { cniVersion: '1.0.0', path: `${PLUGIN_DIR}/loopback` },
    });
  });

  it('fs.watch alone notices a new file (no re-check on demand)', async () => {
    const w = new ConfigWatcher({ confDir, binDirs: [PLUGIN_DIR], probe: new VersionProbe([PLUGIN_DIR], 10_000), loopback: true, staleMs: 1e9 });
    open.push(w);
    await w.reload();
    w.watch();
    expect(w.networks().status.ready).toBe(false);
    await writeFile(join(confDir, '10-a.conflist'), JSON.stringify(bridgeOnly('net-w')));
    await until('watch event', () => w.networks().status.ready, (r) => r);
  });

  it('without watching, refresh() re-reads the dir', async () => {
    const cni = await manager(false);
    await writeFile(join(confDir, '10-a.conflist'), JSON.stringify(bridgeOnly('net-r')));
    expect((await cni.refresh()).ready).toBe(true);
  });

  it('picks the lexically first file and wraps a single-plugin .conf into a list', async () => {
    await writeFile(join(confDir, '20-b.conflist'), JSON.stringify(bridgeOnly('net-b')));
    const { plugins, ...rest } = bridgeOnly('net-a');
    await writeFile(join(confDir, '05-a.conf'), JSON.stringify({ ...rest, ...plugins[0] }));
    await writeFile(join(confDir, '01-ignored.txt'), 'not a config');
    const s = await (await manager(false)).refresh();
    expect(s.ready).toBe(true);
    expect(s.config?.file).toBe(`${confDir}/05-a.conf`);
    expect(s.config?.plugins.map((p) => p.type)).toEqual(['bridge']);
  });

  it('reports an invalid first file by name instead of falling back to the next', async () => {
    await writeFile(join(confDir, '00-broken.conflist'), '{"cniVersion": "1.0.0", "name": "x", ');
    await writeFile(join(confDir, '10-a.conflist'), JSON.stringify(bridgeOnly('net-a')));
    const s = await (await manager(false)).refresh();
    expect(s).toMatchObject({ ready: false, reason: 'InvalidNetworkConfig' });
    expect(s.message).toMatch(new RegExp(`^CNI config ${confDir}/00-broken.conflist: is not valid JSON`));
  });

  it('asks the plugins which versions they speak: 1.1.0 is refused by Debian\'s 1.1.1 plugins, a 1.1 cniVersions list falls back', async () => {
    await writeFile(join(confDir, '10-a.conflist'), JSON.stringify(bridgeOnly('net-a', '1.1.0')));
    const cni = await manager(false);
    const s = await cni.refresh();
    expect(s).toMatchObject({ ready: false, reason: 'PluginVersionMismatch' });
    expect(s.message).toContain('cniVersion 1.1.0 is not spoken by every plugin (bridge supports 0.1.0, 0.2.0, 0.3.0, 0.3.1, 0.4.0, 1.0.0)');

    const { cniVersion: _drop, ...noVersion } = bridgeOnly('net-a');
    await writeFile(join(confDir, '10-a.conflist'), JSON.stringify({ ...noVersion, cniVersions: ['1.1.0', '1.0.0', '0.4.0'] }));
    const s2 = await cni.refresh();
    expect(s2.ready).toBe(true);
    expect(s2.config?.cniVersion).toBe('1.0.0');
  });

  it('writes the default bridge + portmap list only into an empty dir, and the real plugins accept it', async () => {
    const written = await writeDefaultConfigIfEmpty(confDir);
    expect(written).toBe(join(confDir, '10-berth.conflist'));
    expect(await writeDefaultConfigIfEmpty(confDir)).toBeUndefined();
    const s = await (await manager(false)).refresh();
    expect(s.ready).toBe(true);
    expect(s.config).toMatchObject({ name: 'berth', cniVersion: '1.0.0', plugins: [{ type: 'bridge' }, { type: 'portmap' }] });
    expect(defaultConflist().plugins).toHaveLength(2);
  });
});
