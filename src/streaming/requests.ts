/**
 * Checks on Exec / Attach / PortForward requests before a URL is handed out (pure), with the
 * rules containerd applies, so a bad request fails at the RPC rather than at connect time.
 */
import { invalidArgument } from '../util/errors.js';
import type { AttachRequest, ExecRequest, PortForwardRequest } from './runtime.js';

function checkStreams(what: string, r: { containerId: string; tty: boolean; stdin: boolean; stdout: boolean; stderr: boolean }): void {
  if (!r.containerId) throw invalidArgument(`${what}: container_id is required`);
  if (r.tty && r.stderr) {
    throw invalidArgument(`${what} for container ${r.containerId}: tty and stderr cannot both be set (a terminal merges stderr into stdout)`);
  }
  if (!r.stdin && !r.stdout && !r.stderr) {
    throw invalidArgument(`${what} for container ${r.containerId}: at least one of stdin, stdout and stderr must be set`);
  }
}

export function validateExec(r: ExecRequest): void {
  checkStreams('Exec', r);
  if (r.cmd.length === 0) throw invalidArgument(`Exec for container ${r.containerId}: cmd is empty`);
}

export function validateAttach(r: AttachRequest): void {
  checkStreams('Attach', r);
}

export function validatePortForward(r: PortForwardRequest): void {
  if (!r.podSandboxId) throw invalidArgument('PortForward: pod_sandbox_id is required');
  for (const p of r.ports) {
    if (!Number.isInteger(p) || p < 1 || p > 65535) {
      throw invalidArgument(`PortForward for pod ${r.podSandboxId}: port ${p} is not in 1-65535`);
    }
  }
}

/** Parses "host:port", "[v6]:port" or ":port" (host defaults to 127.0.0.1). */
export function parseListenAddress(address: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(address.trim());
  if (!m) throw invalidArgument(`streaming.address ${JSON.stringify(address)} is not host:port`);
  const port = Number(m[3]);
  if (port > 65535) throw invalidArgument(`streaming.address ${JSON.stringify(address)}: port ${port} is out of range`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}
