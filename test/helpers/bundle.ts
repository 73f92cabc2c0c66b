/**
 * Test-only: a minimal OCI bundle running busybox (from Debian's busybox-static), for driving
 * real runtimes through the shim. Bundles are created as <parent>/<id> (shims require the bundle
 * dir to be named after its id); remove `parent` to clean up.
 */
import { copyFile, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const BUSYBOX = '/bin/busybox';
const APPLETS = ['sh', 'echo', 'sleep', 'cat', 'true', 'false', 'ls', 'id', 'stty'];

export interface BundleOptions {
  args: string[];
  env?: string[];
  terminal?: boolean;
  annotations?: Record<string, string>;
  /** OCI linux.resources (e.g. { memory: { limit: 16 << 20 } }). */
  resources?: object;
  /** Pod grouping: sets io.kubernetes.cri.sandbox-id (and container-type) like the CRI does. */
  sandboxId?: string;
  /** Leave <bundle>/rootfs absent and build the busybox tree at <parent>/<id>.rootfs-src instead,
   *  for tests that hand the shim a bind Mount to put at <bundle>/rootfs. */
  separateRootfs?: boolean;
}

export interface TestBundle {
  id: string;
  dir: string;
  /** The busybox tree (inside the bundle unless separateRootfs). */
  rootfs: string;
}

/** A directory tree with /bin/busybox and applet symlinks. */
export async function makeBusyboxRootfs(dir: string): Promise<void> {
  for (const d of ['bin', 'proc', 'dev', 'sys', 'tmp', 'etc']) await mkdir(join(dir, d), { recursive: true });
  await copyFile(BUSYBOX, join(dir, 'bin/busybox'));
  for (const a of APPLETS) await symlink('busybox', join(dir, 'bin', a));
}

export function minimalSpec(id: string, o: BundleOptions): object {
  const annotations: Record<string, string> = { ...o.annotations };
  if (o.sandboxId) {
    annotations['io.kubernetes.cri.sandbox-id'] = o.sandboxId;
    annotations['io.kubernetes.cri.container-type'] = o.sandboxId === id ? 'sandbox' : 'container';
  }
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: o.terminal ?? false,
      user: { uid: 0, gid: 0 },
      args: o.args,
      env: ['PATH=/bin', ...(o.env ?? [])],
      cwd: '/',
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: id.slice(0, 63),
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'] },
      { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'size=16m'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    ],
    annotations,
    linux: {
      ...(o.resources ? { resources: o.resources } : {}),
      namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'network' }],
      maskedPaths: ['/proc/kcore', '/proc/keys', '/sys/firmware'],
      readonlyPaths: ['/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}

export async function createBundle(parent: string, id: string, o: BundleOptions): Promise<TestBundle> {
  const dir = join(parent, id);
  await mkdir(dir, { recursive: true });
  const rootfs = o.separateRootfs ? join(parent, `${id}.rootfs-src`) : join(dir, 'rootfs');
  await makeBusyboxRootfs(rootfs);
  await writeFile(join(dir, 'config.json'), JSON.stringify(minimalSpec(id, o), null, 2));
  return { id, dir, rootfs };
}
