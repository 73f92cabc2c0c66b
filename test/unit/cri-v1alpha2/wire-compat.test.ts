/**
 * The premise of the v1alpha2 bridge, checked on our two transcriptions field by field:
 * runtime.v1alpha2 is a wire subset of runtime.v1, with one harmless type change.
 */
import { describe, expect, it } from 'vitest';
import { contractDifferences, loadPackages, newerOnlyFields } from './descriptors.js';

const { v1, v1alpha2 } = loadPackages();

describe('runtime.v1alpha2 vs runtime.v1 wire contract', () => {
  it('differs only in KeyValue.value (string vs bytes: both length-delimited, same bytes)', () => {
    expect(contractDifferences(v1alpha2, v1)).toEqual(['KeyValue field 2: string value -> bytes value']);
  });

  it('finds a renumbered or retyped field when there is one (the check can fail)', () => {
    const broken = loadPackages().v1;
    const f = broken.messages.get('ContainerConfig')!.field!.find((x) => x.name === 'log_path')!;
    f.number = 99;
    broken.messages.get('CpuUsage')!.field!.find((x) => x.name === 'usage_core_nano_seconds')!.typeName = '.runtime.v1.Int64Value';
    broken.enums.get('ContainerState')!.value[0]!.number = 7;
    expect(contractDifferences(v1alpha2, broken).sort()).toEqual([
      'ContainerConfig field 11 (log_path): missing',
      'CpuUsage field 2: UInt64Value usage_core_nano_seconds -> Int64Value usage_core_nano_seconds',
      'KeyValue field 2: string value -> bytes value',
      'enum ContainerState value 0: CONTAINER_CREATED -> missing',
    ]);
  });

  it('serves the kubelet 1.20-1.25 RPC set', () => {
    expect(v1alpha2.services.get('RuntimeService')!.map((m) => m.name)).toEqual([
      'Version', 'RunPodSandbox', 'StopPodSandbox', 'RemovePodSandbox', 'PodSandboxStatus', 'ListPodSandbox',
      'CreateContainer', 'StartContainer', 'StopContainer', 'RemoveContainer', 'ListContainers', 'ContainerStatus',
      'UpdateContainerResources', 'ReopenContainerLog', 'ExecSync', 'Exec', 'Attach', 'PortForward',
      'ContainerStats', 'ListContainerStats', 'PodSandboxStats', 'ListPodSandboxStats', 'UpdateRuntimeConfig', 'Status',
    ]);
    expect(v1alpha2.services.get('ImageService')!.map((m) => m.name)).toEqual(['ListImages', 'ImageStatus', 'PullImage', 'RemoveImage', 'ImageFsInfo']);
    expect(v1alpha2.messages.size).toBe(150); // incl. map entry types
  });

  it('lists the v1-only fields that vanish from v1alpha2 answers', () => {
    expect(newerOnlyFields(v1alpha2, v1)).toEqual([
      'Mount.uidMappings', 'Mount.gidMappings', 'Mount.recursive_read_only', 'Mount.image', 'Mount.image_sub_path', 'Mount.mount_options',
      'LinuxSandboxSecurityContext.supplemental_groups_policy',
      'PodSandboxStatusResponse.containers_statuses', 'PodSandboxStatusResponse.timestamp',
      'LinuxPodSandboxStats.io',
      'WindowsPodSandboxStats.cpu', 'WindowsPodSandboxStats.memory', 'WindowsPodSandboxStats.network', 'WindowsPodSandboxStats.process', 'WindowsPodSandboxStats.containers',
      'ImageSpec.user_specified_image', 'ImageSpec.runtime_handler', 'ImageSpec.image_ref',
      'LinuxContainerSecurityContext.supplemental_groups_policy',
      'WindowsSandboxSecurityContext.namespace_options',
      'WindowsContainerResources.affinity_cpus',
      'ContainerConfig.CDI_devices', 'ContainerConfig.stop_signal',
      'Container.image_id',
      'ContainerStatus.image_id', 'ContainerStatus.user', 'ContainerStatus.stop_signal',
      'StatusResponse.runtime_handlers', 'StatusResponse.features',
      'ImageFsInfoResponse.container_filesystems',
      'ContainerStats.swap', 'ContainerStats.io',
      'CpuUsage.psi',
      'MemoryUsage.psi',
    ]);
  });
});
