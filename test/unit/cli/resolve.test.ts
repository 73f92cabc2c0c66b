import { describe, expect, it } from 'vitest';
import { Container, ContainerState, PodSandbox, PodSandboxState } from '../../../src/gen/runtime/v1/api.js';
import { matchPods, pickContainer, pickPod } from '../../../src/cli/resolve.js';

const pod = (id: string, namespace: string, name: string) => PodSandbox.fromPartial({ id, metadata: { name, namespace, uid: 'u', attempt: 0 }, state: PodSandboxState.SANDBOX_READY });
const pods = [pod('aaa111', 'default', 'web'), pod('aab222', 'prod', 'web'), pod('bbb333', 'default', 'db')];

const ctr = (id: string, name: string, createdAt: bigint, kind?: string) =>
  Container.fromPartial({ id, metadata: { name, attempt: 0 }, createdAt, state: ContainerState.CONTAINER_RUNNING, annotations: kind ? { 'berth.dev/container-kind': kind } : {} });

describe('pod references', () => {
  it('resolves full ids, namespace/name, names and id prefixes, in that order', () => {
    expect(matchPods(pods, 'bbb333').map((p) => p.id)).toEqual(['bbb333']);
    expect(matchPods(pods, 'prod/web').map((p) => p.id)).toEqual(['aab222']);
    expect(matchPods(pods, 'db').map((p) => p.id)).toEqual(['bbb333']);
    expect(matchPods(pods, 'aa').map((p) => p.id)).toEqual(['aaa111', 'aab222']);
    expect(matchPods(pods, 'zz')).toEqual([]);
  });

  it('explains ambiguity and absence', () => {
    expect(() => pickPod(pods, 'web')).toThrow(/"web" names 2 pods: aaa111 default\/web \(Ready\), aab222 prod\/web \(Ready\); use namespace\/name or an id/);
    expect(() => pickPod(pods, 'nope')).toThrow(/no pod "nope".*berth ps/);
    expect(pickPod(pods, 'aab').id).toBe('aab222');
  });
});

describe('container selection', () => {
  const p = pods[0]!;
  const cs = [ctr('c1', 'init', 1n, 'init'), ctr('c2', 'app', 2n), ctr('c3', 'app', 3n)];

  it('picks the only app container (newest attempt) when none is named', () => {
    expect(pickContainer(p, cs, undefined).id).toBe('c3');
  });

  it('picks by name or id prefix; says what exists otherwise', () => {
    expect(pickContainer(p, cs, 'init').id).toBe('c1');
    expect(() => pickContainer(p, cs, 'x')).toThrow('pod default/web has no container "x" (it has: init, app)');
    expect(() => pickContainer(p, [...cs, ctr('c4', 'side', 4n)], undefined)).toThrow('pod default/web has 2 containers (app, side); name one');
    expect(() => pickContainer(p, [], undefined)).toThrow('has no containers');
  });
});
