import { describe, expect, it } from 'vitest';
import { ContainerConfig, PodSandboxConfig } from '../../../src/gen/runtime/v1/api.js';
import { containerName, overlayRootfs, sandboxName } from '../../../src/runtimes/lifecycle/common.js';
import { containerLogPath } from '../../../src/runtimes/lifecycle/container-create.js';
import { exitReason, signalNumber } from '../../../src/runtimes/lifecycle/container-teardown.js';
import { resolvConf } from '../../../src/runtimes/lifecycle/pod-files.js';
import { KeyedMutex } from '../../../src/runtimes/lifecycle/keyed-mutex.js';
import { NameIndex } from '../../../src/store/names.js';
import { BerthError, Code } from '../../../src/util/errors.js';

const pod = PodSandboxConfig.fromPartial({ metadata: { name: 'web', namespace: 'prod', uid: 'u-1', attempt: 2 } });

describe('names', () => {
  it('reserves sandbox and container names the way containerd spells them', () => {
    expect(sandboxName(pod)).toBe('web_prod_u-1_2');
    expect(containerName(ContainerConfig.fromPartial({ metadata: { name: 'app', attempt: 1 } }), pod)).toBe('app_web_prod_u-1_1');
  });
  it('refuses missing metadata with INVALID_ARGUMENT', () => {
    expect(() => sandboxName(PodSandboxConfig.fromPartial({ metadata: { name: 'x', namespace: '', uid: 'u' } }))).toThrow(/namespace is required/);
    expect(() => containerName(ContainerConfig.fromPartial({}), pod)).toThrow(/metadata.name is required/);
  });
  it('NameIndex names the holder on a conflict and allows re-reservation by the holder', () => {
    const ix = new NameIndex('pod sandbox');
    ix.reserve('a', 'id1');
    ix.reserve('a', 'id1');
    try {
      ix.reserve('a', 'id2');
      expect.fail('accepted a second holder');
    } catch (e) {
      expect((e as BerthError).code).toBe(Code.ALREADY_EXISTS);
      expect((e as Error).message).toContain('id1');
    }
    ix.release('a', 'id2'); // not the holder: no effect
    expect(ix.holder('a')).toBe('id1');
    ix.release('a', 'id1');
    ix.reserve('a', 'id2');
  });
});

describe('log paths', () => {
  it('joins the pod log directory and the container log path', () => {
    expect(containerLogPath('/var/log/pods/x', 'c/0.log')).toBe('/var/log/pods/x/c/0.log');
    expect(containerLogPath('', 'c.log')).toBe('');
    expect(containerLogPath('/var/log/pods/x', '')).toBe('');
  });
  it('refuses escapes, absolute log paths and relative directories', () => {
    for (const [dir, p] of [
      ['/var/log/pods/x', '../../etc/passwd'],
      ['/var/log/pods/x', '/etc/passwd'],
      ['var/log', 'c.log'],
    ] as const) {
      expect(() => containerLogPath(dir, p)).toThrow(BerthError);
    }
  });
});

describe('exit reasons and signals', () => {
  it('maps exits to Completed / Error / OOMKilled', () => {
    expect(exitReason({ oomKilled: false, exitCode: 0 })).toBe('Completed');
    expect(exitReason({ oomKilled: false, exitCode: 2 })).toBe('Error');
    expect(exitReason({ oomKilled: true, exitCode: 137 })).toBe('OOMKilled');
  });
  it('parses stop signals by name, short name or number, defaulting to SIGTERM', () => {
    expect(signalNumber('SIGINT')).toBe(2);
    expect(signalNumber('quit')).toBe(3);
    expect(signalNumber('9')).toBe(9);
    expect(signalNumber('NOPE')).toBe(15);
  });
});

describe('pod files', () => {
  it('writes resolv.conf from the CRI DNS config', () => {
    expect(resolvConf({ servers: ['10.0.0.10'], searches: ['ns.svc.cluster.local', 'cluster.local'], options: ['ndots:5'] })).toBe(
      'search ns.svc.cluster.local cluster.local\nnameserver 10.0.0.10\noptions ndots:5\n',
    );
  });
  it('builds the overlay rootfs mount the shim mounts, top layer first', () => {
    const [m] = overlayRootfs(['/l/top', '/l/base'], '/rw');
    expect(m!.type).toBe('overlay');
    expect(m!.options).toEqual(['lowerdir=/l/top:/l/base', 'upperdir=/rw/upper', 'workdir=/rw/work', 'index=off']);
  });
});

describe('KeyedMutex', () => {
  it('serialises work per key and runs different keys in parallel', async () => {
    const m = new KeyedMutex();
    const order: string[] = [];
    const slow = (tag: string, ms: number) => async () => {
      order.push(`${tag}+`);
      await new Promise((r) => setTimeout(r, ms));
      order.push(`${tag}-`);
    };
    await Promise.all([m.run('a', slow('a1', 30)), m.run('a', slow('a2', 1)), m.run('b', slow('b1', 1))]);
    expect(order.indexOf('a2+')).toBeGreaterThan(order.indexOf('a1-'));
    expect(order.indexOf('b1+')).toBeLessThan(order.indexOf('a1-'));
  });
});
