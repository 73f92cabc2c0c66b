/**
 * Label and annotation keys the CLI writes and reads: the ones the kubelet sets (so crictl
 * and other tools show names), and berth's own.
 */

/** Pod and container labels the kubelet sets. */
export const POD_NAME = 'io.kubernetes.pod.name';
export const POD_NAMESPACE = 'io.kubernetes.pod.namespace';
export const POD_UID = 'io.kubernetes.pod.uid';
export const CONTAINER_NAME = 'io.kubernetes.container.name';

/** Container annotations the kubelet sets. */
export const CONTAINER_RESTART_COUNT = 'io.kubernetes.container.restartCount';
export const CONTAINER_PORTS = 'io.kubernetes.container.ports';
export const CONTAINER_TERMINATION_MESSAGE_PATH = 'io.kubernetes.container.terminationMessagePath';
export const CONTAINER_TERMINATION_MESSAGE_POLICY = 'io.kubernetes.container.terminationMessagePolicy';
export const POD_TERMINATION_GRACE_PERIOD = 'io.kubernetes.pod.terminationGracePeriod';

/** berth: the co-location QoS class of a pod (`berth run --qos-class`, or set in the manifest). */
export const QOS_CLASS = 'berth.dev/qos-class';
/** berth: the Kubernetes QoS tier `berth run` computed (Guaranteed, Burstable, BestEffort). */
export const QOS_TIER = 'berth.dev/qos-tier';
/** berth: a container's memory request in bytes; the QoS engine protects that much for LS pods. */
export const MEMORY_REQUEST = 'berth.dev/memory-request';
/** berth: marks pods created by `berth run` and containers that are init containers. */
export const CREATED_BY = 'berth.dev/created-by';
export const CONTAINER_KIND = 'berth.dev/container-kind';

/** Co-location classes, highest priority first (as in Koordinator). */
export const QOS_CLASSES = ['SYSTEM', 'LSE', 'LSR', 'LS', 'BE'] as const;
export type QosClassName = (typeof QOS_CLASSES)[number];
