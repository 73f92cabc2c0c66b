/**
 * `berth run -f pod.yaml`: validate the manifest, pull its images with progress, prepare
 * volumes, run the sandbox, run init containers to completion in order, start the
 * containers, and print the pod id. A failure while creating rolls the pod back; a failed
 * init container leaves the pod for `berth logs` (and says how to remove it).
 */
import { readFile } from 'node:fs/promises';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { ContainerConfig, PodSandboxConfig } from '../../gen/runtime/v1/api.js';
import type { CliContext } from '../context.js';
import { failure, usageError } from '../errors.js';
import { prepareVolumes, removePodVolumes } from '../host-volumes.js';
import { QOS_CLASSES } from '../labels.js';
import { loadPod } from '../manifest/load.js';
import type { Pod } from '../manifest/schema.js';
import { containerConfig, planPod, type ContainerPlan, type PodPlan } from '../manifest/translate.js';
import { daemonSettings, hostIp, nodeName, readMeminfo, readResolvConf, type DaemonSettings } from '../node.js';
import { formatStructured } from '../output/format.js';
import { lastLogLines, removePod, waitForExit } from '../pod-ops.js';
import { hasImage, pullAll } from '../pull.js';
import { listPods, matchPods } from '../resolve.js';
import { checkNonRoot } from './run-checks.js';
import type { Runner } from '../program.js';

interface RunFlags {
  file: string;
  runtimeClass?: string;
  qosClass?: string;
  dryRun?: boolean;
}

async function readManifest(ctx: CliContext, file: string): Promise<{ text: string; source: string }> {
  if (file === '-') {
    const parts: Buffer[] = [];
    for await (const c of ctx.io.stdin) parts.push(c as Buffer);
    return { text: Buffer.concat(parts).toString('utf8'), source: '<stdin>' };
  }
  try {
    return { text: await readFile(file, 'utf8'), source: file };
  } catch (err) {
    throw usageError(`cannot read ${file}: ${(err as Error).message}`);
  }
}

function validateFlags(f: RunFlags): void {
  if (f.qosClass !== undefined && !(QOS_CLASSES as readonly string[]).includes(f.qosClass)) {
    throw usageError(`--qos-class must be one of ${QOS_CLASSES.join(', ')}, not ${JSON.stringify(f.qosClass)}`);
  }
  if (f.runtimeClass !== undefined && !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(f.runtimeClass)) {
    throw usageError(`--runtime-class ${JSON.stringify(f.runtimeClass)} is not a valid runtime class name`);
  }
}

async function pullImages(ctx: CliContext, plan: PodPlan, settings: DaemonSettings): Promise<void> {
  const toPull: string[] = [];
  for (const { image, policy } of plan.images) {
    if (policy === 'Always') toPull.push(image);
    else if (!(await hasImage(ctx, image))) {
      if (policy === 'Never') throw failure(`image ${image} is not present and its imagePullPolicy is Never; pull it first: berth pull ${image}`);
      toPull.push(image);
    }
  }
  if (!(await hasImage(ctx, settings.sandboxImage))) toPull.push(settings.sandboxImage);
  // For the pod's handler: a guest-pull (CoCo) handler gets metadata only, as with CRI PullImage.
  await pullAll(ctx, toPull, plan.runtimeHandler);
}

async function startContainer(ctx: CliContext, pod: Pod, plan: PodPlan, c: ContainerPlan, podId: string, podIp: string, mem: bigint): Promise<string> {
  const config = containerConfig(pod, plan, c, { podIP: podIp, hostIP: hostIp(), nodeName: nodeName() }, mem);
  const { containerId } = await ctx.runtime.createContainer({ podSandboxId: podId, config, sandboxConfig: plan.sandbox }, { deadlineMs: 120_000 });
  await ctx.runtime.startContainer({ containerId }, { deadlineMs: 120_000 });
  return containerId;
}

const DRY_RUN_SETTINGS: DaemonSettings = { root: '/var/lib/berth', sandboxImage: 'registry.k8s.io/pause:3.9', cgroupDriver: 'cgroupfs' };

class InitFailed extends Error {}

async function runInit(ctx: CliContext, plan: PodPlan, c: ContainerPlan, id: string): Promise<void> {
  if (c.kind === 'sidecar') return;
  ctx.note(`waiting for init container ${c.name} to finish`);
  const s = await waitForExit(ctx, id);
  if (s.exitCode === 0) return;
  const tail = await lastLogLines(s.logPath, 10);
  const logs = tail.length ? `\nits last log lines:\n${tail.map((l) => `  ${l}`).join('\n')}` : '';
  throw new InitFailed(
    `init container ${c.name} of pod ${plan.namespace}/${plan.name} exited with code ${s.exitCode}${s.reason ? ` (${s.reason})` : ''}; ` +
      `the pod is kept for inspection (berth logs ${plan.namespace}/${plan.name} ${c.name}); remove it with: berth rm ${plan.namespace}/${plan.name}${logs}`,
  );
}

async function createPod(ctx: CliContext, pod: Pod, plan: PodPlan, settings: DaemonSettings, mem: bigint): Promise<string> {
  await prepareVolumes(plan);
  let podId: string | undefined;
  try {
    podId = (await ctx.runtime.runPodSandbox({ config: plan.sandbox, runtimeHandler: plan.runtimeHandler }, { deadlineMs: 240_000 })).podSandboxId;
    const status = await ctx.runtime.podSandboxStatus({ podSandboxId: podId, verbose: false });
    const ip = status.status?.network?.ip ?? '';
    for (const c of plan.init) await runInit(ctx, plan, c, await startContainer(ctx, pod, plan, c, podId, ip, mem));
    for (const c of plan.containers) await startContainer(ctx, pod, plan, c, podId, ip, mem);
    return podId;
  } catch (err) {
    if (err instanceof InitFailed) throw failure(err.message);
    // Creation failed: leave nothing half made behind.
    if (podId) {
      const p = (await listPods(ctx).catch(() => [])).find((x) => x.id === podId);
      if (p) await removePod(ctx, p, settings.root, 5).catch(() => {});
    } else await removePodVolumes(settings.root, plan.uid).catch(() => {});
    throw err;
  }
}

function dryRun(ctx: CliContext, pod: Pod, plan: PodPlan, mem: bigint): void {
  const facts = { podIP: '<pod IP>', hostIP: hostIp(), nodeName: nodeName() };
  const doc = {
    runtimeHandler: plan.runtimeHandler,
    qosTier: plan.tier,
    qosClass: plan.qosClass,
    images: plan.images,
    volumes: plan.volumes,
    podSandboxConfig: PodSandboxConfig.toJSON(plan.sandbox),
    containers: [...plan.init, ...plan.containers].map((c) => {
      const config = containerConfig(pod, plan, c, facts, mem);
      // Env values are bytes on the wire; show them as text.
      const json = ContainerConfig.toJSON(config) as { envs?: unknown };
      json.envs = config.envs.map((e) => ({ key: e.key, value: Buffer.from(e.value).toString('utf8') }));
      return { kind: c.kind, config: json };
    }),
    warnings: plan.warnings,
  };
  ctx.io.stdout.write(formatStructured(doc, ctx.output === 'json' ? 'json' : 'yaml'));
}

async function run(ctx: CliContext, flags: RunFlags): Promise<void> {
  validateFlags(flags);
  const { text, source } = await readManifest(ctx, flags.file);
  const pod = loadPod(text, source);
  const [settings, meminfo, resolv] = await Promise.all([
    // A dry run works without berthd (with its default root).
    daemonSettings(ctx).catch((err: unknown) => {
      if (flags.dryRun) return DRY_RUN_SETTINGS;
      throw err;
    }),
    readMeminfo(),
    readResolvConf(),
  ]);
  const mem = BigInt(meminfo.totalBytes);
  const plan = planPod(pod, {
    runtimeClass: flags.runtimeClass,
    qosClass: flags.qosClass,
    berthRoot: settings.root,
    memoryCapacityBytes: mem,
    hostResolvConf: resolv,
    uid: randomUUID(),
    nameSuffix: randomBytes(3).toString('hex').slice(0, 5),
  });
  for (const w of plan.warnings) ctx.note(`berth: warning: ${w}`);
  if (flags.dryRun) return dryRun(ctx, pod, plan, mem);
  const existing = matchPods(await listPods(ctx), `${plan.namespace}/${plan.name}`);
  if (existing.length) throw failure(`pod ${plan.namespace}/${plan.name} already exists (id ${existing[0]!.id.slice(0, 12)}); remove it first: berth rm ${plan.namespace}/${plan.name}`);
  await pullImages(ctx, plan, settings);
  await checkNonRoot(ctx, plan);
  const id = await createPod(ctx, pod, plan, settings, mem);
  if (ctx.output === 'table') {
    ctx.note(`pod ${plan.namespace}/${plan.name} is running (${plan.tier}${plan.qosClass ? `, QoS class ${plan.qosClass}` : ''}, runtime ${plan.runtimeHandler || 'default'})`);
    ctx.print(id);
  } else {
    ctx.io.stdout.write(formatStructured({ id, name: plan.name, namespace: plan.namespace, uid: plan.uid, qosTier: plan.tier, qosClass: plan.qosClass, runtimeHandler: plan.runtimeHandler }, ctx.output));
  }
}

export function registerRun(program: Command, runner: Runner): void {
  program
    .command('run')
    .description('run a pod from a Kubernetes Pod manifest (YAML); prints the pod id')
    .requiredOption('-f, --file <path>', 'the Pod manifest ("-" reads stdin)')
    .option('--runtime-class <name>', 'runtime handler to use (overrides spec.runtimeClassName)')
    .option('--qos-class <class>', `co-location QoS class: ${QOS_CLASSES.join(', ')} (sets annotation berth.dev/qos-class)`)
    .option('--dry-run', 'print the CRI configs berth would send, and do nothing')
    .action((opts: RunFlags, cmd: Command) => runner(cmd, (ctx) => run(ctx, opts)));
}
