/**
 * Failure paths. The failing, hanging and flaky plugins are fake (tiny shell scripts in a
 * temp bin dir, named so in each test); they sit in a list after the real bridge and portmap
 * so that undoing a partial setup is tested against real state.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CniManager, CniTeardownError } from '../../../src/network/cni/index.js';
import { Code } from '../../../src/util/errors.js';
import { CniWorld, PLUGIN_DIR, iptablesSnapshot, linesMentioning } from './cni-fixture.js';

const VERSION_ANSWER = `echo '{"cniVersion":"1.0.0","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0"]}'`;

function script(body: string): string {
  return `#!/bin/sh\ncase "$CNI_COMMAND" in\nVERSION) ${VERSION_ANSWER} ;;\n${body}\nesac\n`;
}

/** Live (not zombie) processes whose process group is `pgid`. */
function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') out.push(Number(d));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

describe('CNI failures (fake failing/hanging/flaky plugins after the real bridge + portmap)', () => {
  const w = new CniWorld();
  let fakeBin = '';
  const managers: CniManager[] = [];

  beforeAll(async () => {
    await w.init();
    fakeBin = join(w.root, 'fakebin');
    await mkdir(fakeBin);
    const plugins: Record<string, string> = {
      failadd: script(
        `ADD) cat >/dev/null; echo '{"cniVersion":"1.0.0","code":7,"msg":"fake failure for the test","details":"no such thing"}'; exit 1 ;;\n*) cat >/dev/null ;;`,
      ),
      hang: script(`ADD) echo $$ > ${w.root}/hang.pid; sleep 600 ;;\n*) cat >/dev/null ;;`),
      flaky: script(
        [
          `ADD) tee ${w.root}/flaky-ADD.json | jq -c .prevResult; env | grep ^CNI_ > ${w.root}/flaky-ADD.env ;;`,
          `DEL) cat > ${w.root}/flaky-DEL.json; if [ -e ${w.root}/fail-del ]; then echo '{"code":11,"msg":"fake DEL failure"}'; exit 1; fi ;;`,
          `*) cat >/dev/null ;;`,
        ].join('\n'),
      ),
    };
    for (const [name, text] of Object.entries(plugins)) {
      await writeFile(join(fakeBin, name), text);
      await chmod(join(fakeBin, name), 0o755);
    }
  });

  afterAll(async () => {
    for (const m of managers) m.close();
    await w.cleanup();
  });

  async function managerWith(extra: Record<string, unknown>[], timeoutMs = 60_000): Promise<CniManager> {
    const confDir = join(w.root, `net.d-${managers.length}`);
    await mkdir(confDir);
    await w.writeConf(confDir, '10-test.conflist', w.conflist(extra));
    const m = await CniManager.open({ confDir, binDirs: [fakeBin, PLUGIN_DIR], cacheDir: w.cacheDir, pluginTimeoutMs: timeoutMs, watch: false });
    managers.push(m);
    expect(m.status()).toMatchObject({ ready: true });
    return m;
  }

  function expectNothingLeft(podId: string): void {
    expect(w.leases()).toEqual([]);
    expect(w.bridgePorts()).toEqual([]);
    expect(linesMentioning(iptablesSnapshot(), [podId])).toEqual([]);
    expect(existsSync(w.cacheDir) ? readdirSync(w.cacheDir).filter((n) => n.includes(podId)) : []).toEqual([]);
  }

  it('a failing plugin (fake, prints a CNI error object) fails setup with its message; the partial setup is undone', async () => {
    const cni = await managerWith([{ type: 'failadd' }]);
    const p = await w.newPod();
    const err = await cni.setup({ ...p, portMappings: [{ hostPort: 28_081, containerPort: 80 }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    const msg = (err as Error).message;
    expect(msg).toContain(`CNI plugin failadd ADD (network ${w.network}, pod ${p.podId}) failed: fake failure for the test`);
    expect(msg).toContain('[CNI error 7: invalid network config] (no such thing)');
    expect(msg).toContain('the partial setup was undone');
    expect((err as { code: Code }).code).toBe(Code.FAILED_PRECONDITION);
    expectNothingLeft(p.podId);
  });

  it('a hanging plugin (fake) is killed after the plugin timeout and the error says so', async () => {
    const cni = await managerWith([{ type: 'hang' }], 1000);
    const p = await w.newPod();
    const err = await cni.setup(p).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/CNI plugin hang ADD .* failed: timed out: no answer within 1000 ms, plugin killed/);
    expect((err as { code: Code }).code).toBe(Code.DEADLINE_EXCEEDED);
    const pid = Number(readFileSync(join(w.root, 'hang.pid'), 'utf8'));
    expect(pid).toBeGreaterThan(1);
    for (let i = 0; i < 50 && groupMembers(pid).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(groupMembers(pid)).toEqual([]); // the script and its sleep are gone
    expectNothingLeft(p.podId);
  });

  it('a DEL failure (fake flaky plugin) keeps the cache; teardown again retries and finishes', async () => {
    const cni = await managerWith([{ type: 'flaky', capabilities: { portMappings: true, bandwidth: true } }]);
    const p = await w.newPod();
    const net = await cni.setup({
      ...p,
      podName: 'web',
      podNamespace: 'shop',
      podUid: 'u-1',
      portMappings: [{ hostPort: 28_082, containerPort: 80, protocol: 'udp' }],
      dns: { servers: ['10.0.0.10'] },
    });

    // What the third plugin of the chain was given on ADD.
    const addIn = JSON.parse(readFileSync(join(w.root, 'flaky-ADD.json'), 'utf8')) as Record<string, any>;
    expect(addIn).toMatchObject({ name: w.network, cniVersion: '1.0.0', type: 'flaky' });
    expect(addIn.prevResult.ips[0].address).toBe(`${net.ips[0]}/24`);
    expect(addIn.runtimeConfig).toEqual({ portMappings: [{ hostPort: 28_082, containerPort: 80, protocol: 'udp' }] });
    const env = readFileSync(join(w.root, 'flaky-ADD.env'), 'utf8');
    expect(env).toContain(`CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=web;K8S_POD_INFRA_CONTAINER_ID=${p.podId};K8S_POD_UID=u-1\n`);
    expect(env).toContain(`CNI_PATH=${fakeBin}:${PLUGIN_DIR}\n`);
    expect(env).toContain(`CNI_NETNS=${p.netnsPath}\n`);
    expect(env).toContain('CNI_IFNAME=eth0\n');

    await writeFile(join(w.root, 'fail-del'), '');
    const err = await cni.teardown(p).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CniTeardownError);
    expect((err as Error).message).toContain('CNI plugin flaky DEL');
    expect((err as Error).message).toContain('fake DEL failure');
    expect((err as CniTeardownError).attempts).toBe(1);
    // DEL got the cached result; the real plugins after it in reverse order still ran.
    const delIn = JSON.parse(readFileSync(join(w.root, 'flaky-DEL.json'), 'utf8')) as Record<string, any>;
    expect(delIn.prevResult.ips[0].address).toBe(`${net.ips[0]}/24`);
    expect(w.leases()).toEqual([]);
    expect(await cni.cachedPods()).toContain(p.podId);

    const again = await cni.teardown(p).catch((e: unknown) => e);
    expect((again as CniTeardownError).attempts).toBe(2);
    await rm(join(w.root, 'fail-del'));
    expect((await cni.teardown(p)).networks).toEqual([w.network]); // loopback went on the first try
    expectNothingLeft(p.podId);

    // force: failures are reported but the cache is dropped.
    const q = await w.newPod();
    await cni.setup(q);
    await writeFile(join(w.root, 'fail-del'), '');
    const forced = await cni.teardown({ ...q, force: true });
    expect(forced.ignoredErrors).toHaveLength(1);
    expect(forced.ignoredErrors[0]).toContain('fake DEL failure');
    await rm(join(w.root, 'fail-del'));
    expectNothingLeft(q.podId);
  });
});
