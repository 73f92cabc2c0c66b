/**
 * Turning what a user types into pods and containers: a pod is named by its full id, its
 * namespace/name, its name, or a unique id prefix; a container by its name within the pod
 * (or implicitly, when the pod has one app container).
 */
import { ContainerState, PodSandboxState, type Container, type PodSandbox } from '../gen/runtime/v1/api.js';
import type { CliContext } from './context.js';
import { failure } from './errors.js';
import { CONTAINER_KIND } from './labels.js';
import { shortId } from './output/units.js';

export function podDisplayName(p: PodSandbox): string {
  return `${p.metadata?.namespace ?? '?'}/${p.metadata?.name ?? '?'}`;
}

function describe(p: PodSandbox): string {
  return `${shortId(p.id)} ${podDisplayName(p)} (${p.state === PodSandboxState.SANDBOX_READY ? 'Ready' : 'NotReady'})`;
}

/** The pods `ref` names, by the first rule that matches anything (pure). */
export function matchPods(pods: PodSandbox[], ref: string): PodSandbox[] {
  const exact = pods.filter((p) => p.id === ref);
  if (exact.length) return exact;
  const slash = ref.indexOf('/');
  if (slash > 0) {
    const ns = ref.slice(0, slash);
    const name = ref.slice(slash + 1);
    return pods.filter((p) => p.metadata?.namespace === ns && p.metadata?.name === name);
  }
  const byName = pods.filter((p) => p.metadata?.name === ref);
  if (byName.length) return byName;
  return /^[0-9a-f]+$/.test(ref) ? pods.filter((p) => p.id.startsWith(ref)) : [];
}

/** The one pod `ref` names; a clear error when none or several do (pure). */
export function pickPod(pods: PodSandbox[], ref: string): PodSandbox {
  const m = matchPods(pods, ref);
  if (m.length === 1) return m[0]!;
  if (m.length === 0) throw failure(`no pod ${JSON.stringify(ref)}: name it by name, namespace/name or id (\`berth ps\` lists pods)`);
  throw failure(`${JSON.stringify(ref)} names ${m.length} pods: ${m.map(describe).join(', ')}; use namespace/name or an id`);
}

export async function listPods(ctx: CliContext): Promise<PodSandbox[]> {
  return (await ctx.runtime.listPodSandbox({ filter: undefined })).items;
}

export async function resolvePod(ctx: CliContext, ref: string): Promise<PodSandbox> {
  if (!ref) throw failure('name a pod');
  return pickPod(await listPods(ctx), ref);
}

export async function podContainers(ctx: CliContext, podId: string): Promise<Container[]> {
  const r = await ctx.runtime.listContainers({ filter: { id: '', state: undefined, podSandboxId: podId, labelSelector: {} } });
  return r.containers.sort((a, b) => Number(a.createdAt - b.createdAt));
}

export const isInit = (c: Container): boolean => c.annotations[CONTAINER_KIND] === 'init';

/**
 * The container `name` of a pod (the newest attempt), or its only app container when no name
 * is given (pure).
 */
export function pickContainer(pod: PodSandbox, containers: Container[], name: string | undefined): Container {
  const names = [...new Set(containers.map((c) => c.metadata?.name ?? '?'))];
  if (name) {
    const m = containers.filter((c) => c.metadata?.name === name || c.id === name || (name.length >= 6 && c.id.startsWith(name)));
    if (m.length === 0) throw failure(`pod ${podDisplayName(pod)} has no container ${JSON.stringify(name)}${names.length ? ` (it has: ${names.join(', ')})` : ''}`);
    return m.reduce((a, b) => (b.createdAt > a.createdAt ? b : a));
  }
  const apps = containers.filter((c) => !isInit(c));
  const appNames = [...new Set(apps.map((c) => c.metadata?.name ?? '?'))];
  if (appNames.length === 1) return apps.reduce((a, b) => (b.createdAt > a.createdAt ? b : a));
  if (containers.length === 0) throw failure(`pod ${podDisplayName(pod)} has no containers`);
  throw failure(`pod ${podDisplayName(pod)} has ${appNames.length || names.length} containers (${(appNames.length ? appNames : names).join(', ')}); name one`);
}

export function containerStateName(c: { state: ContainerState }, exitCode?: number): string {
  switch (c.state) {
    case ContainerState.CONTAINER_CREATED:
      return 'Created';
    case ContainerState.CONTAINER_RUNNING:
      return 'Running';
    case ContainerState.CONTAINER_EXITED:
      return exitCode === undefined ? 'Exited' : `Exited(${exitCode})`;
    default:
      return 'Unknown';
  }
}
