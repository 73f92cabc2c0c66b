/**
 * The policy in force: the embedded defaults, or the policy file (config `qos.policyFile`),
 * re-read whenever its identity (inode, size, mtime) changes — checked once per loop step, so
 * an edit takes effect within one period. A policy that fails validation is rejected with its
 * key paths and the previous one stays in force. `apply()` (admin API) validates, persists to
 * the file when there is one (atomically), and takes effect at once.
 */
import { readFileSync, statSync } from 'node:fs';
import { stringify } from 'yaml';
import { writeFileAtomic } from '../../util/atomic.js';
import { errnoCode, messageOf } from '../../util/errors.js';
import type { Logger } from '../../util/log.js';
import { parsePolicyText, validatePolicy } from './parse.js';
import { DEFAULT_POLICY, type Policy } from './schema.js';

export interface PolicyStatus {
  policy: Policy;
  /** "embedded defaults", the file path, or "admin API (in memory)". */
  source: string;
  loadedAt: string;
  file?: string;
  /** The last rejected policy (file edit or apply), while the previous one stays in force. */
  lastError?: { at: string; message: string };
}

type Identity = string | undefined;

function identityOf(file: string): Identity {
  try {
    const s = statSync(file);
    return `${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

export class PolicyStore {
  private policy: Policy = DEFAULT_POLICY;
  private source = 'embedded defaults';
  private loadedAt = new Date().toISOString();
  private lastError: PolicyStatus['lastError'];
  private seen: Identity | 'unread' | 'stat-error' = 'unread';

  constructor(
    readonly file: string | undefined,
    private readonly log: Logger,
  ) {}

  get current(): Policy {
    return this.policy;
  }

  status(): PolicyStatus {
    return { policy: this.policy, source: this.source, loadedAt: this.loadedAt, file: this.file, lastError: this.lastError };
  }

  private reject(message: string): void {
    this.lastError = { at: new Date().toISOString(), message };
    this.log.error({ file: this.file, err: message }, 'QoS policy rejected; the previous policy stays in force');
  }

  private take(policy: Policy, source: string): void {
    this.policy = policy;
    this.source = source;
    this.loadedAt = new Date().toISOString();
    this.lastError = undefined;
  }

  /** Re-read the file if it changed. Returns true when a new policy took effect. */
  refresh(): boolean {
    if (!this.file) return false;
    let id: Identity;
    try {
      id = identityOf(this.file);
    } catch (err) {
      if (this.seen !== 'stat-error') this.reject(`cannot stat ${this.file}: ${messageOf(err)}`);
      this.seen = 'stat-error';
      return false;
    }
    if (id === this.seen) return false;
    this.seen = id;
    if (id === undefined) {
      // No file (yet): the defaults, or whatever was last loaded, stay in force.
      if (this.source === 'embedded defaults') this.log.info({ file: this.file }, 'QoS policy file absent; using the embedded default policy');
      return false;
    }
    try {
      const policy = parsePolicyText(readFileSync(this.file, 'utf8'), this.file);
      this.take(policy, this.file);
      this.log.info({ file: this.file, policy }, 'QoS policy loaded');
      return true;
    } catch (err) {
      this.reject(messageOf(err));
      return false;
    }
  }

  /**
   * Validate and put a policy in force; persist it to the policy file when configured.
   * `body`: YAML/JSON text, or an already parsed object. Throws INVALID_ARGUMENT (key paths)
   * and leaves the current policy untouched.
   */
  async apply(body: unknown): Promise<Policy> {
    const isText = typeof body === 'string';
    let policy: Policy;
    try {
      policy = isText ? parsePolicyText(body, 'the request') : validatePolicy(body, 'the request');
    } catch (err) {
      this.reject(messageOf(err));
      throw err;
    }
    if (this.file) {
      await writeFileAtomic(this.file, isText ? body : stringify(body), 0o644);
      this.seen = identityOf(this.file);
      this.take(policy, this.file);
    } else {
      this.take(policy, 'admin API (in memory)');
    }
    this.log.info({ policy, file: this.file }, 'QoS policy applied');
    return policy;
  }
}
