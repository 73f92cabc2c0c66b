import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stat, writeFile, mkdtemp, rm } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBerthd, BERTHD, type Berthd } from '../../helpers/berthd.js';
import { grpc, grpcError } from '../../helpers/cri-client.js';
import { eventually } from '../../helpers/pod-env.js';
import { defaultConflist } from '../../../src/network/cni/index.js';

describe('CRI server on a unix socket', () => {
  let d: Berthd;
  let cniDir: string;
  beforeAll(async () => {
    cniDir = await mkdtemp(join(tmpdir(), 'berth-cni-empty-'));
    d = await startBerthd({ cni: { confDir: cniDir } });
  });
  afterAll(async () => {
    await d?.cleanup();
    await rm(cniDir, { recursive: true, force: true });
  });

  it('creates the socket with mode 0660', async () => {
    const st = await stat(d.socket);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o660);
  });

  it('answers Version to a current gRPC client', async () => {
    const v = await d.clients().runtime.version({ version: '' });
    expect(v.runtimeName).toBe('berth');
    expect(v.runtimeApiVersion).toBe('v1');
    expect(v.runtimeVersion).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('answers clients that send the socket path as :authority (crictl 1.26, old kubelets)', async () => {
    const c = d.clients({ authority: d.socket });
    // Several calls on one connection: the first adds the authority to the HPACK dynamic
    // table, later ones refer to it by index, so both representations are exercised.
    for (let i = 0; i < 5; i++) {
      const v = await c.runtime.version({ version: 'v1' });
      expect(v.runtimeName).toBe('berth');
    }
    const st = await c.runtime.status({ verbose: false });
    expect(st.status?.conditions.map((x) => x.type)).toEqual(['RuntimeReady', 'NetworkReady']);
  });

  it('also answers long and odd authority values', async () => {
    const c = d.clients({ authority: '/' + 'very/long/path/'.repeat(40) + 'x.sock' });
    for (let i = 0; i < 3; i++) expect((await c.runtime.version({ version: '' })).runtimeName).toBe('berth');
  });

  it('reports conditions that say why it is not ready, and the config when verbose', async () => {
    const st = await d.clients().runtime.status({ verbose: true });
    const rt = st.status!.conditions.find((x) => x.type === 'RuntimeReady')!;
    expect(rt.status).toBe(true);
    const net = st.status!.conditions.find((x) => x.type === 'NetworkReady')!;
    expect(net.status).toBe(false);
    expect(net.reason).toBe('NetworkPluginNotReady');
    expect(net.message).toMatch(/NoNetworkConfig/);
    const cfg = JSON.parse(st.info.config!);
    expect(cfg.root).toBe(d.root);
    expect(cfg.registry.mirrors).toEqual({});
    expect(JSON.parse(st.info.runtimeHandlers!).runc.supported).toBe(true);
    expect(st.info.streaming).toMatch(/^"?http:\/\/127\.0\.0\.1:\d+/);
  });

  it('becomes NetworkReady when a CNI config appears, without a restart', async () => {
    await writeFile(join(cniDir, '10-test.conflist'), JSON.stringify(defaultConflist({ name: 'berth-status-test', bridge: 'bst0', subnet: '10.252.1.0/24' })));
    await eventually(async () => {
      const st = await d.clients().runtime.status({ verbose: false });
      return st.status!.conditions.find((x) => x.type === 'NetworkReady')!.status;
    });
  });

  it('answers RuntimeConfig with the cgroup driver', async () => {
    const rc = await d.clients().runtime.runtimeConfig({});
    expect(rc.linux).toBeDefined();
  });

  it('answers UNIMPLEMENTED naming the RPC for what is not built yet', async () => {
    const err = await grpcError(d.clients().runtime.checkpointContainer({ containerId: 'x', location: '/tmp/x', timeout: 0n }));
    expect(err.code).toBe(grpc.status.UNIMPLEMENTED);
    expect(err.details).toContain('CheckpointContainer');
  });

  it('refuses to start a second daemon on a socket somebody listens on, and replaces a stale one', async () => {
    const proc = spawn(process.execPath, [BERTHD, '--listen', `unix://${d.socket}`, '--root', join(d.dir, 'r2'), '--state', join(d.dir, 's2')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    proc.stdout.on('data', (b) => (out += b));
    proc.stderr.on('data', (b) => (out += b));
    const code = await new Promise((r) => proc.on('exit', r));
    expect(code).not.toBe(0);
    expect(out).toMatch(/another process is listening/);
    // the first daemon still serves
    expect((await d.clients().runtime.version({ version: '' })).runtimeName).toBe('berth');

    // A stale socket file (nobody listening) is replaced.
    const dir = await mkdtemp(join(tmpdir(), 'berth-stale-'));
    const stale = join(dir, 's.sock');
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(stale, r));
    // close the fd without unlinking, leaving a stale socket file
    (srv as unknown as { _handle: { close(): void } })._handle.close();
    const p2 = spawn(process.execPath, [BERTHD, '--listen', `unix://${stale}`, '--root', join(dir, 'r'), '--state', join(dir, 's')], {
      stdio: 'ignore',
    });
    try {
      const deadline = Date.now() + 15_000;
      let ok = false;
      while (!ok && Date.now() < deadline) {
        ok = await new Promise<boolean>((r) => {
          const c = net.connect(stale).once('connect', () => (c.destroy(), r(true))).once('error', () => r(false));
        });
        if (!ok) await new Promise((r) => setTimeout(r, 100));
      }
      expect(ok).toBe(true);
    } finally {
      p2.kill('SIGTERM');
      await new Promise((r) => p2.once('exit', r));
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('shuts down gracefully on SIGTERM, even with a client connection left open, and removes its socket', async () => {
    const d2 = await startBerthd();
    try {
      // A kubelet keeps its connection open for ever: shutdown must not wait for it.
      const idle = d2.clients({ authority: d2.socket });
      await idle.runtime.version({ version: '' });
      const t0 = Date.now();
      const code = await d2.stop();
      expect(Date.now() - t0).toBeLessThan(15_000);
      expect(code).toBe(0);
      await expect(stat(d2.socket)).rejects.toThrow(/ENOENT/);
    } finally {
      await d2.cleanup();
    }
  });
});

describe('configuration errors', () => {
  it('names the offending key and exits with 2', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-cfg-'));
    try {
      const cfg = join(dir, 'c.yaml');
      await writeFile(cfg, 'registry:\n  mirrors:\n    docker.io: ["ftp://nope"]\n  insecur: []\n');
      const proc = spawn(process.execPath, [BERTHD, '--config', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      proc.stderr.on('data', (b) => (err += b));
      const code = await new Promise((r) => proc.on('exit', r));
      expect(code).toBe(2);
      expect(err).toContain('registry.mirrors.docker.io[0]');
      expect(err).toContain('unknown key(s) "insecur"');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
