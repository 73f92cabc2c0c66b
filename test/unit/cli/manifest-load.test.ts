import { describe, expect, it } from 'vitest';
import { loadPod, ManifestError } from '../../../src/cli/manifest/load.js';
import { formatPath } from '../../../src/cli/manifest/checks.js';

function problems(text: string): string[] {
  try {
    loadPod(text, 'pod.yaml');
  } catch (err) {
    if (err instanceof ManifestError) return err.problems.map((p) => `${p.line ?? '?'}: ${formatPath(p.path)}: ${p.message}`);
    throw err;
  }
  throw new Error('expected the manifest to be refused');
}

const base = (containers: string, extra = '') => `apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
${extra}  containers:
${containers}`;

describe('Pod manifests', () => {
  it('accepts a full supported pod', () => {
    const pod = loadPod(
      base(
        `  - name: app
    image: busybox:1.36
    command: [sh, -c, 'echo $(X)']
    env: [{ name: X, value: '1' }, { name: IP, valueFrom: { fieldRef: { fieldPath: status.podIP } } }]
    ports: [{ containerPort: 80, hostPort: 8080, protocol: TCP }]
    resources: { requests: { cpu: 100m, memory: 64Mi }, limits: { cpu: 1, memory: 128Mi } }
    securityContext: { runAsUser: 1000, allowPrivilegeEscalation: false, capabilities: { drop: [ALL] }, seccompProfile: { type: RuntimeDefault } }
    volumeMounts: [{ name: data, mountPath: /data }, { name: host, mountPath: /host, readOnly: true, subPath: etc }]
`,
        `  initContainers:
  - { name: init, image: busybox:1.36, command: ['true'] }
  - { name: side, image: busybox:1.36, restartPolicy: Always }
  volumes:
  - { name: data, emptyDir: { medium: Memory, sizeLimit: 16Mi } }
  - { name: host, hostPath: { path: /etc, type: Directory } }
  dnsPolicy: None
  dnsConfig: { nameservers: [1.1.1.1], options: [{ name: ndots, value: '2' }] }
  securityContext: { fsGroup: 2000, sysctls: [{ name: net.ipv4.ping_group_range, value: '0 0' }] }
  runtimeClassName: runc
  terminationGracePeriodSeconds: 5
`,
      ),
    );
    expect(pod.spec.containers[0]!.name).toBe('app');
    expect(pod.spec.initContainers).toHaveLength(2);
  });

  it('names unknown fields and bad quantities by YAML path and line, all at once, in line order', () => {
    expect(
      problems(`apiVersion: v1
kind: Pod
metadata: { name: p }
spec:
  containers:
  - name: a
    image: x
    foo: 1
  - name: b
    image: x
    resources:
      limits:
        cpu: 2x
        memory: -1Mi
`),
    ).toEqual([
      '8: spec.containers[0].foo: unknown field "foo"',
      '13: spec.containers[1].resources.limits.cpu: invalid quantity "2x"',
      '14: spec.containers[1].resources.limits.memory: quantity "-1Mi" must not be negative',
    ]);
  });

  it('explains why known Kubernetes fields are refused', () => {
    const p = problems(
      base(
        `  - name: a
    image: x
    livenessProbe: { exec: { command: ['true'] } }
    envFrom: [{ configMapRef: { name: c } }]
    resources: { limits: { ephemeral-storage: 1Gi, nvidia.com/gpu: 1 } }
`,
        `  nodeSelector: { disk: ssd }
  volumes: [{ name: v, configMap: { name: c } }]
`,
      ),
    );
    expect(p.join('\n')).toMatch(/spec\.nodeSelector: not supported by berth run: a scheduling field/);
    expect(p.join('\n')).toMatch(/spec\.volumes\[0\]\.configMap: not supported by berth run: only hostPath and emptyDir/);
    expect(p.join('\n')).toMatch(/spec\.containers\[0\]\.livenessProbe: not supported by berth run: probes/);
    expect(p.join('\n')).toMatch(/spec\.containers\[0\]\.envFrom: not supported by berth run: ConfigMaps and Secrets/);
    expect(p.join('\n')).toMatch(/spec\.containers\[0\]\.resources\.limits\.ephemeral-storage: not supported by berth run: resource "ephemeral-storage"/);
    expect(p.join('\n')).toMatch(/spec\.containers\[0\]\.resources\.limits\["nvidia\.com\/gpu"\]: not supported by berth run/);
  });

  it('checks fields: names, kinds, enums, required ones', () => {
    const p = problems(`apiVersion: v2
kind: Deployment
metadata: { name: Bad_Name }
spec:
  restartPolicy: Sometimes
  containers:
  - image: x
`);
    expect(p).toEqual([
      '1: apiVersion: must be "v1"',
      '2: kind: must be "Pod" (berth run takes a single Pod manifest)',
      expect.stringMatching(/^3: metadata\.name: must be a DNS subdomain/),
      expect.stringMatching(/^5: spec\.restartPolicy: invalid option: expected one of "Always"\|"OnFailure"\|"Never"/),
      '7: spec.containers[0].name: is required',
    ]);
  });

  it('cross-field rules: duplicate names, missing volumes, requests above limits, host ports, DNS, QoS class', () => {
    const p = problems(
      base(
        `  - name: a
    image: x
    volumeMounts: [{ name: nope, mountPath: /x }]
    resources: { requests: { cpu: '2' }, limits: { cpu: '1' } }
    ports: [{ containerPort: 80, hostPort: 8080 }]
  - name: a
    image: x
    ports: [{ containerPort: 81, hostPort: 8080 }]
`,
        `  hostNetwork: true
  dnsPolicy: None
`,
      ).replace('name: p', 'name: p\n  annotations: { berth.dev/qos-class: GOLD }'),
    );
    const all = p.join('\n');
    expect(all).toContain('metadata.annotations["berth.dev/qos-class"]: unknown QoS class "GOLD"');
    expect(all).toContain('spec.containers[0].volumeMounts[0].name: no volume named "nope" in spec.volumes');
    expect(all).toContain('spec.containers[0].resources.requests.cpu: request "2" must be less than or equal to the cpu limit "1"');
    expect(all).toContain('spec.containers[0].ports[0].hostPort: must equal containerPort when hostNetwork is true');
    expect(all).toContain('spec.containers[1].name: duplicate container name "a" (also spec.containers[0])');
    expect(all).toContain('spec.containers[1].ports[0].hostPort: host port 8080/TCP is already used by spec.containers[0].ports[0]');
    expect(all).toContain('spec.dnsConfig.nameservers: must list at least one nameserver when dnsPolicy is None');
  });

  it('refuses empty files, several documents and YAML syntax errors', () => {
    expect(problems('')).toEqual(['?: (document): the file is empty; it should hold one Pod']);
    expect(problems('a: 1\n---\nb: 2\n')[0]).toContain('holds 2 YAML documents');
    expect(problems('a: [1\n')[0]).toMatch(/YAML syntax/);
    expect(problems('- 1\n')[0]).toContain('expected a YAML mapping');
  });

  it('ManifestError exits with the usage status and lists every problem', () => {
    try {
      loadPod('kind: Pod\n', 'x.yaml');
    } catch (err) {
      expect((err as ManifestError).exitCode).toBe(2);
      expect((err as Error).message).toMatch(/^x\.yaml is not a Pod berth run can start \(3 problems\):\n {2}x\.yaml/);
      return;
    }
    throw new Error('not refused');
  });
});
