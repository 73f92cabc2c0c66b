/**
 * Shim events: the runc/kata shims call Events/Forward on $TTRPC_ADDRESS with an Envelope whose
 * `event` Any has type_url "containerd.events.<Name>". decodeEnvelope() turns one into a typed
 * ShimEvent (pure); EventsServer (events-server.ts) receives them.
 */
import type { Envelope } from '../../gen/containerd/services/events/ttrpc/v1/events.js';
import {
  TaskCheckpointed,
  TaskCreate,
  TaskDelete,
  TaskExecAdded,
  TaskExecStarted,
  TaskExit,
  TaskOOM,
  TaskPaused,
  TaskResumed,
  TaskStart,
} from '../../gen/containerd/events/task.js';
import { timestampToNs } from './any.js';

export const TOPICS = {
  create: '/tasks/create',
  start: '/tasks/start',
  exit: '/tasks/exit',
  delete: '/tasks/delete',
  oom: '/tasks/oom',
  execAdded: '/tasks/exec-added',
  execStarted: '/tasks/exec-started',
  paused: '/tasks/paused',
  resumed: '/tasks/resumed',
  checkpointed: '/tasks/checkpointed',
} as const;

export type TaskEventBody =
  | { kind: 'create'; containerId: string; bundle: string; pid: number; stdin: string; stdout: string; stderr: string; terminal: boolean }
  | { kind: 'start'; containerId: string; pid: number }
  /** `id` is the exec id for exec'd processes and the container id for the init process. */
  | { kind: 'exit'; containerId: string; id: string; pid: number; exitStatus: number; exitedAtNs: bigint }
  | { kind: 'delete'; containerId: string; id: string; pid: number; exitStatus: number; exitedAtNs: bigint }
  | { kind: 'oom'; containerId: string }
  | { kind: 'exec-added'; containerId: string; execId: string }
  | { kind: 'exec-started'; containerId: string; execId: string; pid: number }
  | { kind: 'paused'; containerId: string }
  | { kind: 'resumed'; containerId: string }
  | { kind: 'checkpointed'; containerId: string; checkpoint: string }
  | { kind: 'unknown'; typeUrl: string };

export type ShimEvent = TaskEventBody & {
  namespace: string;
  topic: string;
  /** When the shim published it, nanoseconds since the epoch. */
  timestampNs: bigint;
};

type Decoder = (value: Buffer) => TaskEventBody;

const DECODERS: Partial<Record<string, Decoder>> = {
  'containerd.events.TaskCreate': (v) => {
    const e = TaskCreate.decode(v);
    return {
      kind: 'create',
      containerId: e.containerId,
      bundle: e.bundle,
      pid: e.pid,
      stdin: e.io?.stdin ?? '',
      stdout: e.io?.stdout ?? '',
      stderr: e.io?.stderr ?? '',
      terminal: e.io?.terminal ?? false,
    };
  },
  'containerd.events.TaskStart': (v) => {
    const e = TaskStart.decode(v);
    return { kind: 'start', containerId: e.containerId, pid: e.pid };
  },
  'containerd.events.TaskExit': (v) => {
    const e = TaskExit.decode(v);
    return {
      kind: 'exit',
      containerId: e.containerId,
      id: e.id,
      pid: e.pid,
      exitStatus: e.exitStatus,
      exitedAtNs: timestampToNs(e.exitedAt),
    };
  },
  'containerd.events.TaskDelete': (v) => {
    const e = TaskDelete.decode(v);
    return {
      kind: 'delete',
      containerId: e.containerId,
      id: e.id,
      pid: e.pid,
      exitStatus: e.exitStatus,
      exitedAtNs: timestampToNs(e.exitedAt),
    };
  },
  'containerd.events.TaskOOM': (v) => ({ kind: 'oom', containerId: TaskOOM.decode(v).containerId }),
  'containerd.events.TaskExecAdded': (v) => {
    const e = TaskExecAdded.decode(v);
    return { kind: 'exec-added', containerId: e.containerId, execId: e.execId };
  },
  'containerd.events.TaskExecStarted': (v) => {
    const e = TaskExecStarted.decode(v);
    return { kind: 'exec-started', containerId: e.containerId, execId: e.execId, pid: e.pid };
  },
  'containerd.events.TaskPaused': (v) => ({ kind: 'paused', containerId: TaskPaused.decode(v).containerId }),
  'containerd.events.TaskResumed': (v) => ({ kind: 'resumed', containerId: TaskResumed.decode(v).containerId }),
  'containerd.events.TaskCheckpointed': (v) => {
    const e = TaskCheckpointed.decode(v);
    return { kind: 'checkpointed', containerId: e.containerId, checkpoint: e.checkpoint };
  },
};

/** Envelope → ShimEvent; unknown event types come back as kind 'unknown' (never throws on them). */
export function decodeEnvelope(envelope: Envelope): ShimEvent {
  const typeUrl = envelope.event?.typeUrl ?? '';
  const bare = typeUrl.startsWith('type.googleapis.com/') ? typeUrl.slice('type.googleapis.com/'.length) : typeUrl;
  const decode = DECODERS[bare];
  const body: TaskEventBody = decode && envelope.event ? decode(envelope.event.value) : { kind: 'unknown', typeUrl };
  return { ...body, namespace: envelope.namespace, topic: envelope.topic, timestampNs: timestampToNs(envelope.timestamp) };
}
