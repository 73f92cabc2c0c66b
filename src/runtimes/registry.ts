/**
 * Runtime handler registry: the configured handlers, their backends, and cached host
 * checks. RunPodSandbox resolves its `runtime_handler` here; unknown or unavailable handlers
 * are refused with an error naming what is wrong, never replaced by another runtime.
 */
import type { Config } from '../daemon/config.js';
import { failedPrecondition, invalidArgument } from '../util/errors.js';
import type { HostCgroupInfo, HostSupport, RuntimeBackend } from './backend.js';
import { RuncBackend } from './runc/backend.js';

const CHECK_TTL_MS = 30_000;

export class HandlerRegistry {
  private readonly backends = new Map<string, RuntimeBackend>();
  private readonly checks = new Map<string, Promise<HostSupport>>();

  constructor(
    private readonly config: Config['runtimes'],
    private readonly cgroup?: HostCgroupInfo,
  ) {
    for (const [name, h] of Object.entries(config.handlers)) {
      this.backends.set(name, this.makeBackend(name, h));
    }
  }

  private makeBackend(name: string, h: Config['runtimes']['handlers'][string]): RuntimeBackend {
    switch (h.type) {
      case 'runc':
        return new RuncBackend(name, h, this.cgroup);
      default:
        // Kata / CoCo backends arrive with their issue; until then they are configured but unusable.
        return new (class extends RuncBackend {
          override async checkHost(): Promise<HostSupport> {
            return { ok: false, missing: [`handler type ${JSON.stringify(h.type)} is not supported by this berth build`], found: {}, checkedAt: Date.now() };
          }
        })(name, h, this.cgroup);
    }
  }

  get defaultName(): string {
    return this.config.default;
  }

  names(): string[] {
    return [...this.backends.keys()];
  }

  /** Host support of a handler, cached for CHECK_TTL_MS. */
  support(name: string): Promise<HostSupport> {
    const b = this.backends.get(name);
    if (!b) return Promise.resolve({ ok: false, missing: [`unknown handler ${name}`], found: {}, checkedAt: Date.now() });
    const cached = this.checks.get(name);
    if (cached) return cached;
    const p = b.checkHost();
    this.checks.set(name, p);
    setTimeout(() => this.checks.delete(name), CHECK_TTL_MS).unref();
    return p;
  }

  /** The backend for a RunPodSandbox `runtime_handler` ("" = default), or a precise error. */
  async resolve(handler: string): Promise<RuntimeBackend> {
    const name = handler || this.config.default;
    const b = this.backends.get(name);
    if (!b) {
      throw invalidArgument(
        `unknown runtime handler ${JSON.stringify(name)}; configured handlers: ${this.names().join(', ')} (runtimes.handlers in the berth config)`,
      );
    }
    const s = await this.support(name);
    if (!s.ok) throw failedPrecondition(`runtime handler ${JSON.stringify(name)} cannot run on this host: ${s.missing.join('; ')}`);
    return b;
  }

  /** Look up a backend by name without host checks (for recovery of existing pods). */
  get(name: string): RuntimeBackend | undefined {
    return this.backends.get(name);
  }
}
