/** runc-type handlers: containerd-shim-runc-v2 running runc, crun (or another OCI runtime). */
import type { HandlerConfig } from '../../daemon/config.js';
import { packRuncOptions } from '../shim/any.js';
import {
  dropHostDevices,
  isPrivileged,
  passThroughAnnotations,
  type HostCgroupInfo,
  type HostSupport,
  type RuntimeBackend,
  type SpecContext,
} from '../backend.js';
import { basename } from 'node:path';
import type { Spec } from '../oci/spec-types.js';
import { which } from '../which.js';

export class RuncBackend implements RuntimeBackend {
  readonly type = 'runc' as const;
  readonly imagePull = 'host' as const;
  readonly isolation = 'container' as const;
  readonly statsSource = 'cgroup' as const;
  readonly qosScope = 'container' as const;
  readonly confidential = false;

  constructor(
    readonly name: string,
    readonly config: HandlerConfig,
    private readonly cgroup?: HostCgroupInfo,
  ) {}

  get shimBinary(): string {
    return this.config.shim;
  }

  get runtimeBinary(): string {
    return this.config.binaryName ?? 'runc';
  }

  shimOptions(runtimeRoot: string) {
    return packRuncOptions({ binaryName: this.runtimeBinary, systemdCgroup: this.config.systemdCgroup, root: runtimeRoot });
  }

  async checkHost(): Promise<HostSupport> {
    const missing: string[] = [];
    const found: Record<string, string> = {};
    for (const [role, bin] of [
      ['shim', this.config.shim],
      ['runtime', this.runtimeBinary],
    ] as const) {
      const p = await which(bin);
      if (p) found[role] = p;
      else missing.push(`${role} binary ${JSON.stringify(bin)} not found in PATH (${process.env.PATH ?? ''})`);
    }
    const c = this.cgroup;
    if (basename(this.runtimeBinary) === 'crun' && c?.mode === 'hybrid' && c.unifiedControllers.length > 0) {
      missing.push(
        `crun refuses hybrid cgroup hosts with controllers on the cgroup2 hierarchy (here: ${c.unifiedControllers.join(', ')}); scripts/setup.sh moves such controllers to v1 hierarchies when cgroup2 does not use them — or use runc`,
      );
    }
    return { ok: missing.length === 0, missing, found, checkedAt: Date.now() };
  }

  adjustSpec(spec: Spec, ctx: SpecContext): void {
    passThroughAnnotations(spec, ctx, this.config);
    if (this.config.privilegedWithoutHostDevices && ctx.kind === 'container' && isPrivileged(ctx)) dropHostDevices(spec, ctx.container);
  }

  describe(): Record<string, string> {
    return { type: this.type, shim: this.shimBinary, runtime: this.runtimeBinary, imagePull: this.imagePull };
  }
}
