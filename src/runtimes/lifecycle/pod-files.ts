/**
 * Files a pod owns and every container of it sees: /etc/hostname, /etc/hosts,
 * /etc/resolv.conf (kept under <root>/pods/<id>/, so they survive a berthd restart), and
 * the per-pod /dev/shm tmpfs under <state>/pods/<id>/shm.
 */
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import type { DNSConfig } from '../../gen/runtime/v1/api.js';
import { invalidArgument, isNotFoundErrno } from '../../util/errors.js';
import { mount, mountsUnder, unmount } from '../../util/mount.js';
import type { PodFiles } from '../oci/inputs.js';

export const SHM_SIZE = '65536k';

const DEFAULT_HOSTS = [
  '127.0.0.1\tlocalhost',
  '::1\tlocalhost ip6-localhost ip6-loopback',
  'fe00::0\tip6-localnet',
  'fe00::0\tip6-mcastprefix',
  'fe00::1\tip6-allnodes',
  'fe00::2\tip6-allrouters',
  '',
].join('\n');

/** resolv.conf text for a CRI DNSConfig (servers, searches, options), as the kubelet expects. */
export function resolvConf(dns: DNSConfig): string {
  const lines: string[] = [];
  if (dns.searches.length) lines.push(`search ${dns.searches.join(' ')}`);
  for (const s of dns.servers) lines.push(`nameserver ${s}`);
  if (dns.options.length) lines.push(`options ${dns.options.join(' ')}`);
  return lines.join('\n') + '\n';
}

function validateDns(dns: DNSConfig): void {
  for (const v of [...dns.servers, ...dns.searches, ...dns.options]) {
    if (/\s/.test(v) || v === '') throw invalidArgument(`dns_config entry ${JSON.stringify(v)} must be non-empty without whitespace`);
  }
}

export interface PodFilesInput {
  persistentDir: string; // <root>/pods/<id>
  runtimeDir: string; // <state>/pods/<id>
  hostname: string; // from the config; "" = the node's
  hostNetwork: boolean;
  hostIpc: boolean;
  dns: DNSConfig | undefined;
}

/** Where a pod's files live (known before they are written, so the spec can be built meanwhile). */
export function podFilePaths(persistentDir: string, runtimeDir: string, hostIpc: boolean): PodFiles {
  return {
    hostname: join(persistentDir, 'hostname'),
    hosts: join(persistentDir, 'hosts'),
    resolvConf: join(persistentDir, 'resolv.conf'),
    ...(hostIpc ? {} : { shm: join(runtimeDir, 'shm') }),
  };
}

export async function createPodFiles(i: PodFilesInput): Promise<PodFiles> {
  await mkdir(i.persistentDir, { recursive: true, mode: 0o711 });
  const files = podFilePaths(i.persistentDir, i.runtimeDir, i.hostIpc);
  const name = i.hostname || osHostname();
  await writeFile(files.hostname!, name + '\n', { mode: 0o644 });
  if (i.hostNetwork) await copyOr(files.hosts!, '/etc/hosts', DEFAULT_HOSTS);
  else await writeFile(files.hosts!, DEFAULT_HOSTS, { mode: 0o644 });
  const dns = i.dns;
  if (dns && (dns.servers.length || dns.searches.length || dns.options.length)) {
    validateDns(dns);
    await writeFile(files.resolvConf!, resolvConf(dns), { mode: 0o644 });
  } else {
    await copyOr(files.resolvConf!, '/etc/resolv.conf', '');
  }
  if (files.shm) {
    await mkdir(files.shm, { recursive: true, mode: 0o711 });
    await mount('shm', files.shm, 'tmpfs', ['nodev', 'noexec', 'nosuid', 'mode=1777', `size=${SHM_SIZE}`], 'mounting the pod /dev/shm');
  }
  return files;
}

async function copyOr(dest: string, src: string, fallback: string): Promise<void> {
  try {
    await copyFile(src, dest);
  } catch (err) {
    if (!isNotFoundErrno(err)) throw err;
    await writeFile(dest, fallback, { mode: 0o644 });
  }
}

/** Idempotent: unmount the shm and anything else under the runtime dir, remove both dirs. */
export async function removePodFiles(persistentDir: string, runtimeDir: string): Promise<void> {
  for (const m of await mountsUnder(runtimeDir)) await unmount(m, `cleaning up pod runtime dir ${runtimeDir}`);
  await rm(runtimeDir, { recursive: true, force: true });
  await rm(persistentDir, { recursive: true, force: true });
}

export async function readHostname(persistentDir: string): Promise<string> {
  return (await readFile(join(persistentDir, 'hostname'), 'utf8')).trim();
}
