/**
 * The QoS admin API (on the admin socket, same permissions as the CRI socket):
 *   GET  /v1/qos/policy     the policy in force, where it came from, the last rejection
 *   POST /v1/qos/policy     apply a policy (body: YAML or JSON); saved to the policy file (qos.policyFile, default <root>/qos-policy.yaml)
 *   POST /v1/qos/simulate   what a policy (body, or the one in force) would set now; writes nothing
 *   GET  /v1/qos/status     classes per pod, BE allowance, last actions, evictions, degraded features
 */
import type { AdminServer } from '../admin/server.js';
import { invalidArgument } from '../util/errors.js';
import type { QosEngine } from './engine.js';

/** A body the admin server parsed as JSON, or its raw text (YAML). Empty → undefined. */
function policyBody(req: { body: unknown; rawBody: string }): unknown {
  if (req.rawBody.trim() === '') return undefined;
  return req.body;
}

export function registerQosRoutes(admin: Pick<AdminServer, 'route'>, engine: QosEngine): void {
  admin.route('GET', '/v1/qos/policy', async () => engine.policyStatus());
  admin.route('POST', '/v1/qos/policy', async (req) => {
    const body = policyBody(req);
    if (body === undefined) throw invalidArgument('POST /v1/qos/policy needs a policy in the body (YAML or JSON; {} for the defaults)');
    return engine.applyPolicy(body);
  });
  admin.route('POST', '/v1/qos/simulate', async (req) => engine.simulate(policyBody(req)));
  admin.route('GET', '/v1/qos/status', async () => engine.status());
}
