/** The shim v2 client: the only module in berth that speaks ttrpc. */
export { ShimManager, NAMESPACE_METADATA_KEY } from './manager.js';
export type { ShimManagerOptions, StartShimOptions, ConnectShimOptions } from './manager.js';
export { Shim } from './shim.js';
export type { ShimInfo, ShimCloseEvent } from './shim.js';
export { TaskClient } from './task-client.js';
export type {
  CreateTaskOptions,
  ExecOptions,
  ExitInfo,
  ProcessEntry,
  Stdio,
  TaskClientOptions,
  TaskState,
  TaskStatus,
  ConnectInfo,
} from './task-client.js';
export { EventsServer } from './events-server.js';
export { TOPICS, decodeEnvelope } from './events.js';
export type { ShimEvent, TaskEventBody } from './events.js';
export { ProcessIO } from './process-io.js';
export type { ProcessIOOptions } from './process-io.js';
export { mkfifo, openFifoReader, openFifoWriter } from './fifo.js';
export { TYPE_URL, packRuncOptions, packOciJson, packRuncCheckpointOptions, unpackStats, timestampToNs } from './any.js';
export type { RuncOptions, StatsMetrics } from './any.js';
export { TtrpcClient } from './ttrpc/client.js';
export type { CallOptions } from './ttrpc/client.js';
export { TtrpcServer } from './ttrpc/server.js';
export { TtrpcStatusError, TtrpcClosedError } from './ttrpc/errors.js';
