/**
 * Teardown when the pod's network namespace is already gone.
 *
 * Measured with Debian's plugins 1.1.1: `bridge` DEL with a missing namespace releases the
 * IPAM lease but skips removing its ipMasq NAT chain, because it learns the pod's addresses
 * by deleting the interface inside the namespace (a prevResult does not help). The NAT
 * chain then leaks for ever. So when the namespace is gone and the cached result says which
 * addresses the pod interface had, DEL is given a short-lived stand-in namespace holding an
 * interface of that name with those addresses; the plugin deletes it, finds the addresses
 * and removes its rules. Without cached addresses DEL gets an empty CNI_NETNS (the spec's
 * way of saying there is no namespace).
 */
import { mkdir, open, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from '../../util/exec.js';
import { removeNetns } from '../netns.js';
import { parseResult } from './result.js';

const NSFS_MAGIC = 0x6e736673;

/** True when `path` is a mounted network namespace (an nsfs file). */
export async function isLiveNetns(path: string | undefined): Promise<boolean> {
  if (!path) return false;
  try {
    return (await statfs(path)).type === NSFS_MAGIC;
  } catch {
    return false;
  }
}

/** The sandbox addresses (CIDR) of `ifName` in a cached result; [] when unknown. */
export function sandboxAddresses(raw: Record<string, unknown> | undefined, ifName: string, version: string): string[] {
  if (!raw) return [];
  try {
    const r = parseResult(raw, version);
    return r.ips
      .filter((c) => c.interface !== undefined && r.interfaces[c.interface]?.name === ifName && r.interfaces[c.interface]?.sandbox)
      .map((c) => c.address);
  } catch {
    return [];
  }
}

/** `ip -batch` commands that create `ifName` (a veth, as dummy may be unavailable) with `addresses`. */
export function standInCommands(ifName: string, addresses: string[]): string {
  const peer = ifName === 'bsi0' ? 'bsi1' : 'bsi0';
  const lines = [`link add ${ifName} type veth peer name ${peer}`];
  for (const a of addresses) lines.push(a.includes(':') ? `addr add ${a} dev ${ifName} nodad` : `addr add ${a} dev ${ifName}`);
  return lines.join('\n') + '\n';
}

/** Create a stand-in namespace at `path`; the caller removes it with removeNetns. */
export async function createStandIn(path: string, ifName: string, addresses: string[]): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true, mode: 0o700 });
  await (await open(path, 'w', 0o444)).close();
  const r = await runCommand('unshare', [`--net=${path}`, 'ip', '-batch', '-'], {
    what: `creating a stand-in network namespace for CNI DEL at ${path}`,
    stdin: Buffer.from(standInCommands(ifName, addresses)),
    timeoutMs: 15_000,
  });
  if (r.code !== 0) {
    await removeNetns(path).catch(() => {});
    throw new Error(`stand-in namespace ${path}: ${r.stderr || `exit ${r.code ?? r.signal}`}`);
  }
}
