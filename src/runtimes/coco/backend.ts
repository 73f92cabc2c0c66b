/**
 * coco-type handlers: Confidential Containers on Kata. Everything the Kata backend does,
 * plus: images are pulled in the guest (default imagePull "guest"), the handler is refused on
 * hosts without its TEE, and the sandbox gets initdata — the pod's own (validated) if its
 * annotation is allowlisted and present, else one built from the handler's `coco` settings
 * (KBS URL, agent policy). A pod's agent policy annotation is validated and passed on.
 */
import { readFile } from 'node:fs/promises';
import type { HandlerConfig } from '../../daemon/config.js';
import { errnoCode, messageOf } from '../../util/errors.js';
import type { SpecContext } from '../backend.js';
import { KataBackend } from '../kata/backend.js';
import { annotationEnabled } from '../kata/kata-config.js';
import { decideKataSupport, usesRemoteHypervisor, type Verdict } from '../kata/host-check.js';
import { realProbe, type HostProbe, type VmHostFacts } from '../kata/host-facts.js';
import type { Spec } from '../oci/spec-types.js';
import {
  AGENT_POLICY_ANNOTATION,
  INITDATA_ANNOTATION,
  buildInitdata,
  encodeInitdata,
  initdataToml,
  validateAgentPolicyAnnotation,
  validateInitdataAnnotation,
} from './initdata.js';
import { checkTee, teeOf, type Tee } from './tee.js';
import { annotationAllowed } from '../backend.js';

export class CocoBackend extends KataBackend {
  readonly tee: Tee;

  constructor(name: string, config: HandlerConfig, probe: HostProbe = realProbe) {
    super(name, config, probe);
    this.tee = teeOf(config.tee, config.configPath);
  }

  override get type(): 'coco' {
    return 'coco';
  }

  override get confidential(): boolean {
    return this.tee !== 'none';
  }

  override get imagePull(): 'host' | 'guest' {
    return this.config.imagePull ?? 'guest';
  }

  /** Does berth build initdata from the handler's settings? */
  get buildsInitdata(): boolean {
    const c = this.config.coco;
    return !!(c?.kbsUrl || c?.policyPath);
  }

  protected override async verdict(facts: VmHostFacts): Promise<Verdict> {
    const v = decideKataSupport(this.name, facts);
    checkTee(this.tee, facts, usesRemoteHypervisor(facts), v);
    const sendsInitdata = this.buildsInitdata || annotationAllowed(INITDATA_ANNOTATION, this.config.podAnnotations);
    if (sendsInitdata && facts.config.state === 'ok') {
      const hv = facts.config.info.hypervisor;
      if (hv && !annotationEnabled(hv, 'cc_init_data')) {
        v.missing.push(
          `Kata configuration ${facts.config.path} does not enable the cc_init_data annotation that initdata travels in (add "cc_init_data" to hypervisor.${hv.kind}.enable_annotations)`,
        );
      }
    }
    const policyPath = this.config.coco?.policyPath;
    if (policyPath) {
      const r = await this.probe.readText(policyPath);
      if ('error' in r) v.missing.push(`agent policy ${policyPath} (runtimes.handlers.${this.name}.coco.policyPath) cannot be read (${r.error})`);
      else v.found.agentPolicy = policyPath;
    }
    if (this.config.coco?.kbsUrl) v.found.kbs = this.config.coco.kbsUrl;
    return v;
  }

  /** base64(gzip(initdata TOML)) from the handler's settings, or undefined when it has none. */
  async handlerInitdata(): Promise<string | undefined> {
    const c = this.config.coco;
    if (!c || !this.buildsInitdata) return undefined;
    let policy: string | undefined;
    if (c.policyPath) {
      try {
        policy = await readFile(c.policyPath, 'utf8');
      } catch (err) {
        throw new Error(`reading the agent policy ${c.policyPath} of runtime handler ${this.name}: ${errnoCode(err) ?? messageOf(err)}`);
      }
    }
    return encodeInitdata(initdataToml(buildInitdata({ kbsUrl: c.kbsUrl, policy, algorithm: c.initdataAlgorithm })));
  }

  override async adjustSpec(spec: Spec, ctx: SpecContext): Promise<void> {
    await super.adjustSpec(spec, ctx);
    if (ctx.kind !== 'sandbox') return;
    const a = (spec.annotations ??= {});
    const fromPod = a[INITDATA_ANNOTATION];
    if (fromPod !== undefined && fromPod.trim() !== '') validateInitdataAnnotation(fromPod);
    else {
      delete a[INITDATA_ANNOTATION]; // empty means none, as Kata reads it
      const built = await this.handlerInitdata();
      if (built) a[INITDATA_ANNOTATION] = built;
    }
    if (a[AGENT_POLICY_ANNOTATION] !== undefined) validateAgentPolicyAnnotation(a[AGENT_POLICY_ANNOTATION]);
  }

  override describe(): Record<string, string> {
    return {
      ...super.describe(),
      tee: this.tee,
      initdata: this.buildsInitdata ? `built from runtimes.handlers.${this.name}.coco` : 'only what pods bring',
    };
  }
}
