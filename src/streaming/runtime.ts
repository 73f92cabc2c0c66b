/**
 * What the streaming server needs from the rest of berth. The server knows nothing about
 * shims or namespaces: the daemon plugs in a StreamingRuntime.
 */
import type { Duplex, Readable, Writable } from 'node:stream';

export interface TerminalSize {
  width: number;
  height: number;
}

/** A cached CRI ExecRequest (the fields the streaming server uses). */
export interface ExecRequest {
  containerId: string;
  cmd: string[];
  tty: boolean;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
}

/** A cached CRI AttachRequest. */
export interface AttachRequest {
  containerId: string;
  tty: boolean;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
}

/** A cached CRI PortForwardRequest. `ports` may be empty: SPDY clients name ports per stream. */
export interface PortForwardRequest {
  podSandboxId: string;
  ports: number[];
}

/**
 * The client's streams, present only when the request asked for them (with tty, stderr is
 * never present: the terminal merges it into stdout).
 * - stdin ends when the client closes its stdin.
 * - stdout / stderr: write the process output; the server ends them after the call settles,
 *   so resolve only once all output has been written to them.
 * - resize: terminal sizes as the client reports them (tty with protocol v3 or later, and
 *   WebSocket); the iteration ends when the session ends.
 */
export interface SessionIo {
  stdin?: Readable;
  stdout?: Writable;
  stderr?: Writable;
  resize?: AsyncIterable<TerminalSize>;
}

export interface StreamingRuntime {
  /**
   * Run `req.cmd` in the container and resolve with its exit code once it has exited and its
   * output has been copied. Reject (with a message for the user) if it could not be run.
   * `signal` aborts when the client goes away or the server stops; the runtime should stop
   * copying and settle soon after (whether to kill the process is its choice; the kubelet
   * does not).
   */
  exec(req: ExecRequest, io: SessionIo, signal: AbortSignal): Promise<{ exitCode: number }>;

  /** Connect the streams to the container's main process until it exits or `signal` aborts. */
  attach(req: AttachRequest, io: SessionIo, signal: AbortSignal): Promise<void>;

  /**
   * Relay `conn` to TCP 127.0.0.1:`port` inside the pod's network namespace, both ways, with
   * half-closes passed on; resolve when both directions are done. Reject if the port cannot
   * be reached: the message goes to the client. See netns-dial.ts for a ready helper.
   */
  portForward(req: { podSandboxId: string; port: number }, conn: Duplex, signal: AbortSignal): Promise<void>;
}
