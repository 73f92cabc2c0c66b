/**
 * The kubelet streaming server for CRI Exec / Attach / PortForward (SPDY/3.1 and WebSocket).
 * The daemon creates a StreamingServer with a StreamingRuntime, starts it, and the CRI
 * handlers answer Exec/Attach/PortForward with server.getUrl(...).
 */
export { StreamingServer, type StreamingServerOptions } from './server.js';
export type {
  AttachRequest, ExecRequest, PortForwardRequest, SessionIo, StreamingRuntime, TerminalSize,
} from './runtime.js';
export { portForwardInNetns, type NetnsDialOptions } from './netns-dial.js';
export { relay } from './relay.js';
