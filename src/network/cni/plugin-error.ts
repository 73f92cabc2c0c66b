/**
 * Plugin failures (pure): the CNI error object a failing plugin prints on stdout
 * ({cniVersion, code, msg, details}) or, failing that, its stderr, turned into a BerthError
 * whose message names the plugin, the command and the network.
 */
import { BerthError, Code } from '../../util/errors.js';
import type { CniCommand } from './types.js';

/** Well-known CNI error codes (SPEC.md "Error"); 100+ are the plugin's own. */
const CODE_NAMES: Record<number, string> = {
  1: 'incompatible CNI version',
  2: 'unsupported field in network configuration',
  3: 'container unknown or does not exist',
  4: 'invalid necessary environment variables',
  5: 'I/O failure',
  6: 'failed to decode content',
  7: 'invalid network config',
  11: 'try again later',
  50: 'plugin not available',
  51: 'plugin not available: limited connectivity',
};

export interface PluginFailure {
  cniCode?: number;
  msg: string;
  details?: string;
}

/** What went wrong, from a plugin that exited non-zero (or printed an error object). */
export function parsePluginFailure(stdout: string, stderr: string, exit: string): PluginFailure {
  const text = stdout.trim();
  if (text.startsWith('{')) {
    try {
      const e = JSON.parse(text) as Record<string, unknown>;
      if (typeof e.code === 'number' || typeof e.msg === 'string') {
        return {
          cniCode: typeof e.code === 'number' ? e.code : undefined,
          msg: typeof e.msg === 'string' && e.msg ? e.msg : `plugin reported error code ${String(e.code)}`,
          details: typeof e.details === 'string' && e.details ? e.details : undefined,
        };
      }
    } catch {
      // not an error object: fall through to stderr
    }
  }
  const why = stderr.trim() || text || exit;
  return { msg: why.length > 2000 ? `${why.slice(0, 2000)}…` : why };
}

export function describeCniCode(code: number): string {
  return CODE_NAMES[code] ?? (code >= 100 ? 'plugin-specific error' : 'unknown error code');
}

function grpcCodeFor(cniCode: number | undefined): Code {
  if (cniCode === 11 || cniCode === 50 || cniCode === 51) return Code.UNAVAILABLE;
  if (cniCode === 1 || cniCode === 2 || cniCode === 6 || cniCode === 7) return Code.FAILED_PRECONDITION;
  return Code.INTERNAL;
}

export interface PluginContext {
  plugin: string;
  command: CniCommand;
  network: string;
  containerId: string;
}

/** A plugin failed: message "CNI plugin bridge ADD (network x, pod y) failed: <msg> [code …] (<details>)". */
export class CniPluginError extends BerthError {
  readonly plugin: string;
  readonly command: CniCommand;
  readonly network: string;
  readonly cniCode: number | undefined;
  constructor(ctx: PluginContext, f: PluginFailure, code?: Code) {
    const codeText = f.cniCode !== undefined ? ` [CNI error ${f.cniCode}: ${describeCniCode(f.cniCode)}]` : '';
    const details = f.details ? ` (${f.details})` : '';
    super(
      code ?? grpcCodeFor(f.cniCode),
      `CNI plugin ${ctx.plugin} ${ctx.command} (network ${ctx.network}, pod ${ctx.containerId}) failed: ${f.msg}${codeText}${details}`,
    );
    this.plugin = ctx.plugin;
    this.command = ctx.command;
    this.network = ctx.network;
    this.cniCode = f.cniCode;
  }
}
