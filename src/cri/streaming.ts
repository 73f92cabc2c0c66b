/** Exec / Attach / PortForward: validate, then hand out a one-time URL on the streaming server. */
import { AttachResponse, ExecResponse, PortForwardResponse } from '../gen/runtime/v1/api.js';
import type { Lifecycle } from '../runtimes/lifecycle/index.js';
import type { StreamingServer } from '../streaming/index.js';
import { failedPrecondition } from '../util/errors.js';
import type { RuntimeHandlers } from './server.js';

export function streamingHandlers(lc: Lifecycle, server: StreamingServer): RuntimeHandlers {
  const running = (id: string) => {
    const c = lc.container(id);
    if (c.phase !== 'running') throw failedPrecondition(`container ${c.id} is not running (${c.phase})`);
    return c;
  };
  return {
    async exec(req) {
      const c = running(req.containerId);
      return ExecResponse.fromPartial({ url: server.getUrl('exec', { containerId: c.id, cmd: req.cmd, tty: req.tty, stdin: req.stdin, stdout: req.stdout, stderr: req.stderr }) });
    },
    async attach(req) {
      const c = running(req.containerId);
      return AttachResponse.fromPartial({ url: server.getUrl('attach', { containerId: c.id, tty: req.tty, stdin: req.stdin, stdout: req.stdout, stderr: req.stderr }) });
    },
    async portForward(req) {
      const p = lc.pod(req.podSandboxId);
      if (p.phase !== 'ready') throw failedPrecondition(`pod sandbox ${p.id} is not ready`);
      return PortForwardResponse.fromPartial({ url: server.getUrl('portforward', { podSandboxId: p.id, ports: req.port }) });
    },
  };
}
