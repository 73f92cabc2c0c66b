/**
 * Runtime handler registry: the configured handlers, their backends, cached host checks and
 * the runtime-class policy. RunPodSandbox resolves its `runtime_handler` here, in this order:
 *  1. no handler named: the pod's namespace default (policy), else runtimes.default;
 *  2. unknown handler: INVALID_ARGUMENT listing the configured ones;
 *  3. a policy rule the pod violates: PERMISSION_DENIED naming the rule;
 *  4. the host lacks what the handler needs: FAILED_PRECONDITION naming each missing piece.
 * A handler is never silently replaced by another runtime.
 */
import type { Config } from '../daemon/config.js';
import type { PodSandboxConfig } from '../gen/runtime/v1/api.js';
import { failedPrecondition, invalidArgument, permissionDenied } from '../util/errors.js';
import type { HostCgroupInfo, HostSupport, RuntimeBackend } from './backend.js';
import { CocoBackend } from './coco/backend.js';
import { KataBackend } from './kata/backend.js';
import type { HostProbe } from './kata/host-facts.js';
import { checkPolicy, chooseHandler, type HandlerChoice, type HandlerFacts } from './policy/evaluate.js';
import { RuncBackend } from './runc/backend.js';

const CHECK_TTL_MS = 30_000;

export interface RegistryOptions {
  cgroup?: HostCgroupInfo;
  /** Host probe for Kata/CoCo checks (tests inject fakes). */
  probe?: HostProbe;
  /** How long a host check is reused (default 30 s). */
  checkTtlMs?: number;
}

export interface Resolved {
  backend: RuntimeBackend;
  /** How the handler was chosen (for logs and status). */
  choice: HandlerChoice;
}

/** What to say of a runtime handler that is not configured (`where` names where it came from). */
export function unknownHandlerMessage(name: string, configured: string[], where = ''): string {
  return `unknown runtime handler ${JSON.stringify(name)}${where}; configured handlers: ${configured.join(', ')} (runtimes.handlers in the berth config)`;
}

export class HandlerRegistry {
  private readonly backends = new Map<string, RuntimeBackend>();
  private readonly checks = new Map<string, { at: number; p: Promise<HostSupport> }>();
  private readonly opts: RegistryOptions;

  constructor(
    private readonly config: Config['runtimes'],
    cgroupOrOpts?: HostCgroupInfo | RegistryOptions,
  ) {
    this.opts = cgroupOrOpts && 'mode' in cgroupOrOpts ? { cgroup: cgroupOrOpts } : (cgroupOrOpts ?? {});
    for (const [name, h] of Object.entries(config.handlers)) this.backends.set(name, this.makeBackend(name, h));
  }

  private makeBackend(name: string, h: Config['runtimes']['handlers'][string]): RuntimeBackend {
    switch (h.type) {
      case 'runc':
        return new RuncBackend(name, h, this.opts.cgroup);
      case 'kata':
        return new KataBackend(name, h, this.opts.probe);
      case 'coco':
        return new CocoBackend(name, h, this.opts.probe);
    }
  }

  get defaultName(): string {
    return this.config.default;
  }

  names(): string[] {
    return [...this.backends.keys()];
  }

  /** Host support of a handler, cached for checkTtlMs and then checked again. */
  support(name: string): Promise<HostSupport> {
    const b = this.backends.get(name);
    if (!b) return Promise.resolve({ ok: false, missing: [`unknown handler ${name}`], found: {}, checkedAt: Date.now() });
    const ttl = this.opts.checkTtlMs ?? CHECK_TTL_MS;
    const cached = this.checks.get(name);
    if (cached && Date.now() - cached.at < ttl) return cached.p;
    const p = b.checkHost().catch((err: unknown) => ({
      ok: false,
      missing: [`the host check itself failed: ${(err as Error).message}`],
      found: {},
      checkedAt: Date.now(),
    }));
    this.checks.set(name, { at: Date.now(), p });
    return p;
  }

  /** Forget cached host checks (e.g. after installing Kata, or from the CLI). */
  refresh(): void {
    this.checks.clear();
  }

  private facts(b: RuntimeBackend): HandlerFacts {
    return { name: b.name, type: b.type, confidential: b.confidential, vm: b.isolation === 'vm' };
  }

  /**
   * The backend for a RunPodSandbox `runtime_handler` ("" = the namespace's or the global
   * default), after policy and host checks; a BerthError saying precisely why not otherwise.
   */
  async resolve(handler: string, pod?: PodSandboxConfig): Promise<RuntimeBackend> {
    return (await this.resolveWithChoice(handler, pod)).backend;
  }

  async resolveWithChoice(handler: string, pod?: PodSandboxConfig): Promise<Resolved> {
    const policy = this.config.policy;
    const namespace = pod?.metadata?.namespace ?? '';
    const choice = chooseHandler(policy, namespace, handler, this.config.default);
    const b = this.backends.get(choice.handler);
    if (!b) {
      const from = choice.source === 'namespace' ? ` (the runtimes.policy.namespaceDefaults entry for namespace ${namespace})` : '';
      throw invalidArgument(unknownHandlerMessage(choice.handler, this.names(), from));
    }
    if (pod) {
      const podFacts = { name: pod.metadata?.name ?? '', namespace, labels: pod.labels ?? {}, annotations: pod.annotations ?? {} };
      const all = [...this.backends.values()].map((x) => this.facts(x));
      const violation = checkPolicy(policy, podFacts, this.facts(b), all);
      if (violation) throw permissionDenied(violation.message);
    }
    const s = await this.support(choice.handler);
    if (!s.ok) throw failedPrecondition(`runtime handler ${JSON.stringify(choice.handler)} cannot run on this host: ${s.missing.join('; ')}`);
    return { backend: b, choice };
  }

  /** Look up a backend by name without host checks (for recovery of existing pods). */
  get(name: string): RuntimeBackend | undefined {
    return this.backends.get(name);
  }
}
