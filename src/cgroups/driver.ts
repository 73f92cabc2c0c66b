/**
 * Cgroup path drivers, as the kubelet and runc name cgroups. Pure string logic.
 *
 * cgroupfs: the CRI `cgroup_parent` is a path ("/kubepods/burstable/pod<uid>"); a container
 *   lives at "<parent>/<id>"; runc's OCI `linux.cgroupsPath` is that same absolute path.
 * systemd: the parent is a slice unit name ("kubepods-burstable-pod<uid>.slice"); each "-"
 *   in a slice name is a nesting level, so it expands to
 *   "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid>.slice"; a container
 *   is the scope "<prefix>-<id>.scope" inside it; runc's cgroupsPath is "slice:prefix:id".
 */
import { invalidArgument } from '../util/errors.js';

export type CgroupDriver = 'cgroupfs' | 'systemd';

export interface ContainerCgroup {
  driver: CgroupDriver;
  /** The container's cgroup path relative to each hierarchy root, starting with "/". */
  path: string;
  /** The parent (pod) cgroup path relative to each hierarchy root. */
  parentPath: string;
  /** The string for the OCI spec's linux.cgroupsPath, in the form runc expects for the driver. */
  ociCgroupsPath: string;
  /** systemd only: the parent slice unit and the container's scope unit. */
  slice?: string;
  unit?: string;
}

export interface ContainerCgroupOptions {
  /** CRI LinuxPodSandboxConfig.cgroup_parent; empty means `defaultParent`. */
  parent: string;
  /** Container (or sandbox) id. */
  id: string;
  /** systemd scope prefix; the kubelet's cAdvisor recognises "cri-containerd" scopes. */
  scopePrefix?: string;
  /** Used when `parent` is empty: "/berth" (cgroupfs) or "berth.slice" (systemd). */
  defaultParent?: string;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$/;
/** Characters systemd allows in a unit name (before escaping); "-" separates slice levels. */
const SLICE_COMPONENT = /^[A-Za-z0-9:_.\\]+$/;
const PATH_COMPONENT = /^[^\0\n/]+$/;

function requireId(id: string, what: string): void {
  if (!ID.test(id)) {
    throw invalidArgument(`${what} ${JSON.stringify(id)} must be 1-255 characters of [A-Za-z0-9_.-], not starting with . or -`);
  }
}

/**
 * Expand a systemd slice name into its nested cgroup path, as systemd and runc do:
 * "a-b-c.slice" → "/a.slice/a-b.slice/a-b-c.slice"; "-.slice" (the root slice) → "/".
 */
export function expandSlice(slice: string): string {
  const bad = (why: string) => invalidArgument(`invalid systemd slice name ${JSON.stringify(slice)}: ${why}`);
  if (!slice.endsWith('.slice') || slice.length <= '.slice'.length) throw bad('must end in ".slice"');
  if (slice.includes('/')) throw bad('must not contain "/"');
  const name = slice.slice(0, -'.slice'.length);
  if (name === '-') return '/';
  let path = '';
  let prefix = '';
  for (const component of name.split('-')) {
    if (component === '') throw bad('empty component (leading, trailing or doubled "-")');
    if (!SLICE_COMPONENT.test(component)) throw bad(`component ${JSON.stringify(component)} has characters systemd does not allow`);
    if (component === '..' || component === '.') throw bad('"." and ".." are not allowed');
    path += `/${prefix}${component}.slice`;
    prefix += `${component}-`;
  }
  return path;
}

/** Validate and normalise a cgroupfs path: absolute, no "." or ".." components, no "//". */
export function cleanCgroupPath(path: string, what = 'cgroup path'): string {
  if (path === '' || path === '/') return '/';
  const parts = path.split('/').filter((p) => p !== '');
  for (const p of parts) {
    if (p === '..' || p === '.') throw invalidArgument(`${what} ${JSON.stringify(path)} must not contain "${p}"`);
    if (!PATH_COMPONENT.test(p)) throw invalidArgument(`${what} ${JSON.stringify(path)} contains a NUL or newline`);
  }
  return '/' + parts.join('/');
}

/** Which driver a CRI cgroup_parent looks written for ("x.slice" without "/" → systemd). */
export function driverOfParent(parent: string): CgroupDriver | undefined {
  if (parent === '') return undefined;
  return !parent.includes('/') && parent.endsWith('.slice') ? 'systemd' : 'cgroupfs';
}

/**
 * The parent (pod) cgroup path for a CRI cgroup_parent. For systemd the parent may be the
 * slice name or an already expanded path whose last component is a slice; the latter must
 * match the slice's own expansion.
 */
export function parentCgroupPath(driver: CgroupDriver, parent: string): { path: string; slice?: string } {
  if (driver === 'cgroupfs') {
    if (driverOfParent(parent) === 'systemd') {
      throw invalidArgument(
        `cgroup_parent ${JSON.stringify(parent)} is a systemd slice name but berth uses the cgroupfs driver; ` +
          'configure the same cgroup driver in the kubelet and berth',
      );
    }
    return { path: cleanCgroupPath(parent, 'cgroup_parent') };
  }
  const slice = parent.includes('/') ? parent.slice(parent.lastIndexOf('/') + 1) : parent;
  const path = expandSlice(slice);
  if (parent.includes('/') && cleanCgroupPath(parent, 'cgroup_parent') !== path) {
    throw invalidArgument(`cgroup_parent ${JSON.stringify(parent)} does not match the expansion of its slice ${slice} (${path})`);
  }
  return { path, slice };
}

/** The cgroup path and OCI linux.cgroupsPath of a container under a CRI cgroup_parent. */
export function containerCgroup(driver: CgroupDriver, opts: ContainerCgroupOptions): ContainerCgroup {
  requireId(opts.id, 'container id');
  const parent = opts.parent !== '' ? opts.parent : (opts.defaultParent ?? (driver === 'systemd' ? 'berth.slice' : '/berth'));
  const { path: parentPath, slice } = parentCgroupPath(driver, parent);
  if (driver === 'cgroupfs') {
    const path = parentPath === '/' ? `/${opts.id}` : `${parentPath}/${opts.id}`;
    return { driver, path, parentPath, ociCgroupsPath: path };
  }
  const prefix = opts.scopePrefix ?? 'cri-containerd';
  requireId(prefix, 'systemd scope prefix');
  const unit = `${prefix}-${opts.id}.scope`;
  const path = parentPath === '/' ? `/${unit}` : `${parentPath}/${unit}`;
  return { driver, path, parentPath, ociCgroupsPath: `${slice}:${prefix}:${opts.id}`, slice, unit };
}

/**
 * Parse an OCI linux.cgroupsPath back into a cgroup path (what runc will create):
 * cgroupfs: the path itself; systemd: "slice:prefix:name" ("name.slice" names a slice).
 */
export function cgroupPathFromOci(driver: CgroupDriver, cgroupsPath: string): string {
  if (driver === 'cgroupfs') return cleanCgroupPath(cgroupsPath, 'cgroupsPath');
  const parts = cgroupsPath.split(':');
  if (parts.length !== 3) throw invalidArgument(`systemd cgroupsPath ${JSON.stringify(cgroupsPath)} must be "slice:prefix:name"`);
  const [slice, prefix, name] = parts as [string, string, string];
  requireId(name.replace(/\.slice$/, ''), 'unit name');
  const base = expandSlice(slice === '' ? 'system.slice' : slice);
  const unit = name.endsWith('.slice') ? name : `${prefix}-${name}.scope`;
  if (name.endsWith('.slice')) expandSlice(name);
  else requireId(prefix, 'systemd scope prefix');
  return base === '/' ? `/${unit}` : `${base}/${unit}`;
}
