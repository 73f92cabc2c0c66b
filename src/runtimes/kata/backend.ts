/**
 * kata-type handlers: containerd-shim-kata-v2 runs each pod in a VM. The shim gets the
 * handler's configuration file as runtimeoptions ConfigPath; the sandbox spec carries the
 * pod's size (resources + overhead) in the io.kubernetes.cri.sandbox-* annotations Kata
 * reads; allowlisted io.katacontainers.* annotations pass through; rootfs mounts go to the
 * shim, which shares them into the guest (or, with guest pull, none do). Stats come from
 * the shim and QoS applies to the pod's sandbox cgroup, where the VM's threads live.
 */
import type { HandlerConfig } from '../../daemon/config.js';
import type { Any } from '../../gen/google/protobuf/any.js';
import {
  dropHostDevices,
  isPrivileged,
  passThroughAnnotations,
  type HostSupport,
  type RuntimeBackend,
  type SpecContext,
} from '../backend.js';
import { ANNOTATION } from '../oci/opts/annotations.js';
import type { Spec } from '../oci/spec-types.js';
import { FORCE_GUEST_PULL, guestImageRef } from './guest-pull.js';
import { decideKataSupport, type Verdict } from './host-check.js';
import { gatherVmFacts, realProbe, type HostProbe, type VmHostFacts } from './host-facts.js';
import { packRuntimeOptions } from './options.js';
import { sandboxSize, sizeAnnotations } from './sizing.js';

export class KataBackend implements RuntimeBackend {
  readonly isolation = 'vm' as const;
  readonly statsSource = 'shim' as const;
  readonly qosScope = 'sandbox' as const;

  constructor(
    readonly name: string,
    readonly config: HandlerConfig,
    protected readonly probe: HostProbe = realProbe,
  ) {}

  get type(): 'kata' | 'coco' {
    return 'kata';
  }

  get confidential(): boolean {
    return false;
  }

  get imagePull(): 'host' | 'guest' {
    return this.config.imagePull ?? 'host';
  }

  get shimBinary(): string {
    return this.config.shim;
  }

  /** runtimeoptions.v1.Options{config_path}: Kata's shim reads its configuration file from it. */
  shimOptions(): Any {
    return packRuntimeOptions({ configPath: this.config.configPath ?? '' });
  }

  async checkHost(): Promise<HostSupport> {
    const facts = await gatherVmFacts(this.probe, this.config.shim, this.config.configPath);
    const v = await this.verdict(facts);
    return { ok: v.missing.length === 0, missing: v.missing, found: v.found, checkedAt: Date.now() };
  }

  /** Kata's checks; CoCo adds its TEE and initdata checks. */
  protected async verdict(facts: VmHostFacts): Promise<Verdict> {
    return decideKataSupport(this.name, facts);
  }

  async adjustSpec(spec: Spec, ctx: SpecContext): Promise<void> {
    passThroughAnnotations(spec, ctx, this.config);
    const a = (spec.annotations ??= {});
    if (ctx.kind === 'sandbox') {
      const size = sandboxSize(ctx.pod?.linux?.resources, ctx.pod?.linux?.overhead);
      if (size) Object.assign(a, sizeAnnotations(size));
      if (this.imagePull === 'guest') a[FORCE_GUEST_PULL] = 'true';
    } else {
      if (this.config.privilegedWithoutHostDevices && isPrivileged(ctx)) dropHostDevices(spec, ctx.container);
      if (this.imagePull === 'guest' && ctx.image) a[ANNOTATION.imageName] = guestImageRef(ctx.image);
    }
  }

  describe(): Record<string, string> {
    return {
      type: this.type,
      shim: this.shimBinary,
      config: this.config.configPath ?? '(Kata default search path)',
      imagePull: this.imagePull,
    };
  }
}
