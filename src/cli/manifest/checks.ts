/**
 * Cross-field rules of a Pod that the per-field schema cannot express (pure), each problem
 * with the YAML path it is about. Mirrors the Kubernetes API validation for the fields
 * berth run supports.
 */
import type { Container, InitContainer, Pod, ResourceList, SeccompProfile } from './schema.js';
import { compareQuantities, parseQuantity } from './quantity.js';
import { QOS_CLASS, QOS_CLASSES } from '../labels.js';

export type Path = (string | number)[];

export interface Problem {
  path: Path;
  message: string;
}

/** fieldRef paths berth run can fill in (downward API). */
export const FIELD_REFS = /^(metadata\.(name|namespace|uid)|metadata\.(labels|annotations)\['[^']+'\]|status\.(podIP|podIPs|hostIP|hostIPs)|spec\.(nodeName|hostname))$/;

function checkResources(r: { requests?: ResourceList; limits?: ResourceList } | undefined, at: Path, out: Problem[]): void {
  for (const name of ['cpu', 'memory'] as const) {
    const req = r?.requests?.[name];
    const lim = r?.limits?.[name];
    if (req === undefined || lim === undefined) continue;
    const q = parseQuantity(req);
    const l = parseQuantity(lim);
    if (q && l && compareQuantities(q, l) > 0) {
      out.push({ path: [...at, 'requests', name], message: `request ${JSON.stringify(req)} must be less than or equal to the ${name} limit ${JSON.stringify(lim)}` });
    }
  }
}

function checkSeccomp(p: SeccompProfile | undefined, at: Path, out: Problem[]): void {
  if (!p) return;
  if (p.type === 'Localhost' && !p.localhostProfile) out.push({ path: [...at, 'localhostProfile'], message: 'is required when type is Localhost' });
  if (p.type !== 'Localhost' && p.localhostProfile) out.push({ path: [...at, 'localhostProfile'], message: 'may only be set when type is Localhost' });
}

function checkContainer(pod: Pod, c: Container | InitContainer, at: Path, volumes: Set<string>, out: Problem[]): void {
  c.env?.forEach((e, i) => {
    const p = [...at, 'env', i];
    if (e.value !== undefined && e.valueFrom) out.push({ path: p, message: 'value and valueFrom are mutually exclusive' });
    const ref = e.valueFrom?.fieldRef?.fieldPath;
    if (ref !== undefined && !FIELD_REFS.test(ref)) {
      out.push({ path: [...p, 'valueFrom', 'fieldRef', 'fieldPath'], message: `unsupported field path ${JSON.stringify(ref)} (supported: metadata.name, metadata.namespace, metadata.uid, metadata.labels['k'], metadata.annotations['k'], status.podIP, status.hostIP, spec.nodeName)` });
    }
  });
  const mountPaths = new Set<string>();
  c.volumeMounts?.forEach((m, i) => {
    const p = [...at, 'volumeMounts', i];
    if (!volumes.has(m.name)) out.push({ path: [...p, 'name'], message: `no volume named ${JSON.stringify(m.name)} in spec.volumes` });
    if (mountPaths.has(m.mountPath)) out.push({ path: [...p, 'mountPath'], message: `${JSON.stringify(m.mountPath)} is mounted twice in this container` });
    mountPaths.add(m.mountPath);
    if (m.subPath !== undefined && (m.subPath.startsWith('/') || m.subPath.split('/').includes('..'))) {
      out.push({ path: [...p, 'subPath'], message: 'must be a relative path without ".."' });
    }
  });
  checkResources(c.resources, [...at, 'resources'], out);
  checkSeccomp(c.securityContext?.seccompProfile, [...at, 'securityContext', 'seccompProfile'], out);
  c.ports?.forEach((port, i) => {
    if (pod.spec.hostNetwork && port.hostPort && port.hostPort !== port.containerPort) {
      out.push({ path: [...at, 'ports', i, 'hostPort'], message: 'must equal containerPort when hostNetwork is true' });
    }
  });
}

function checkPorts(pod: Pod, out: Problem[]): void {
  const seen = new Map<string, string>();
  const all: [Container | InitContainer, Path][] = [
    ...(pod.spec.initContainers ?? []).map((c, i): [InitContainer, Path] => [c, ['spec', 'initContainers', i]]),
    ...pod.spec.containers.map((c, i): [Container, Path] => [c, ['spec', 'containers', i]]),
  ];
  for (const [c, at] of all) {
    c.ports?.forEach((p, i) => {
      if (!p.hostPort) return;
      const key = `${p.hostIP ?? ''}/${p.hostPort}/${p.protocol ?? 'TCP'}`;
      const where = [...at, 'ports', i];
      const prev = seen.get(key);
      if (prev) out.push({ path: [...where, 'hostPort'], message: `host port ${p.hostPort}/${p.protocol ?? 'TCP'} is already used by ${prev}` });
      else seen.set(key, formatPath(where));
    });
  }
}

/** Every cross-field problem of a schema-valid pod. */
export function checkPod(pod: Pod): Problem[] {
  const out: Problem[] = [];
  const { metadata: md, spec } = pod;
  if (!md.name && !md.generateName) out.push({ path: ['metadata', 'name'], message: 'is required (or set metadata.generateName)' });
  const qos = md.annotations?.[QOS_CLASS];
  if (qos !== undefined && !(QOS_CLASSES as readonly string[]).includes(qos)) {
    out.push({ path: ['metadata', 'annotations', QOS_CLASS], message: `unknown QoS class ${JSON.stringify(qos)} (one of ${QOS_CLASSES.join(', ')})` });
  }
  const volumes = new Set<string>();
  spec.volumes?.forEach((v, i) => {
    if (volumes.has(v.name)) out.push({ path: ['spec', 'volumes', i, 'name'], message: `duplicate volume name ${JSON.stringify(v.name)}` });
    volumes.add(v.name);
    const sources = [v.hostPath, v.emptyDir].filter((s) => s !== undefined).length;
    if (sources !== 1) out.push({ path: ['spec', 'volumes', i], message: sources === 0 ? 'needs a source: hostPath or emptyDir' : 'may have only one source (hostPath or emptyDir)' });
  });
  const names = new Map<string, string>();
  const visit = (c: Container | InitContainer, at: Path) => {
    const prev = names.get(c.name);
    if (prev) out.push({ path: [...at, 'name'], message: `duplicate container name ${JSON.stringify(c.name)} (also ${prev})` });
    else names.set(c.name, formatPath(at));
    checkContainer(pod, c, at, volumes, out);
  };
  spec.initContainers?.forEach((c, i) => visit(c, ['spec', 'initContainers', i]));
  spec.containers.forEach((c, i) => visit(c, ['spec', 'containers', i]));
  checkPorts(pod, out);
  if (spec.dnsPolicy === 'None' && !spec.dnsConfig?.nameservers?.length) {
    out.push({ path: ['spec', 'dnsConfig', 'nameservers'], message: 'must list at least one nameserver when dnsPolicy is None' });
  }
  if (spec.shareProcessNamespace && spec.hostPID) out.push({ path: ['spec', 'shareProcessNamespace'], message: 'cannot be combined with hostPID' });
  checkSeccomp(spec.securityContext?.seccompProfile, ['spec', 'securityContext', 'seccompProfile'], out);
  return out;
}

/** ['spec','containers',1,'resources'] → "spec.containers[1].resources"; odd keys are quoted. */
export function formatPath(path: Path): string {
  let s = '';
  for (const p of path) {
    if (typeof p === 'number') s += `[${p}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(p)) s += s ? `.${p}` : p;
    else s += `[${JSON.stringify(p)}]`;
  }
  return s || '(document)';
}
