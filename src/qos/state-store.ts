/**
 * The QoS loop's state on disk, so a restart (or `kill -9`) of berthd carries on where the loop
 * left off instead of starting over: the BE allowance (the kernel keeps enforcing the last one
 * while berthd is down; starting from the floor would cut BE for no reason), the PSI factor
 * and its mean stall, the memory phase, the BE shares, and the exclusive CPUs of LSE/LSR
 * containers (recomputed, they could move to other CPUs under a running container, as the
 * kubelet's CPU manager avoids with its own state file).
 *
 * It lives under berthd's state directory (`<state>/qos-state.json`, /run/berth by default):
 * after a reboot no container it describes is left. Written after each step whose state
 * changed, with write + rename and no fsync (it only has to outlive the process); a write
 * never overlaps another, and the newest state wins. A missing, unreadable or malformed file is
 * logged and the loop starts afresh.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { writeFileAtomic } from '../util/atomic.js';
import { errnoCode, messageOf } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import type { QosState } from './strategies/types.js';

const VERSION = 1;

const cpuList = z.array(z.number().int().min(0));
const fileSchema = z.object({
  version: z.literal(VERSION),
  savedAt: z.string(),
  allowanceCores: z.number().min(0).optional(),
  psiFactor: z.number().gt(0).max(1),
  psiPressurePct: z.number().min(0).max(100).optional(),
  memory: z.object({ stepsAbove: z.number().int().min(0) }),
  exclusive: z.record(z.string(), cpuList),
  lastShares: z.record(z.string(), z.number().min(0)),
});
type StateFile = z.infer<typeof fileSchema>;

export interface RestoredState {
  state: QosState;
  savedAt: string;
}

function toFile(s: QosState): Omit<StateFile, 'savedAt'> {
  return {
    version: VERSION,
    allowanceCores: s.allowanceCores,
    psiFactor: s.psiFactor,
    psiPressurePct: s.psiPressurePct,
    memory: { stepsAbove: s.memory.stepsAbove },
    exclusive: Object.fromEntries(s.exclusive),
    lastShares: Object.fromEntries(s.lastShares),
  };
}

export class QosStateStore {
  private lastWritten?: string;
  private pending?: QosState;
  private writing?: Promise<void>;

  constructor(
    readonly file: string,
    private readonly log: Logger,
  ) {}

  /** The state saved last, or undefined (no file, or one that cannot be used: logged). */
  load(): RestoredState | undefined {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') this.log.warn({ file: this.file, err: messageOf(err) }, 'cannot read the saved QoS state; starting afresh');
      return undefined;
    }
    let parsed: StateFile;
    try {
      parsed = fileSchema.parse(JSON.parse(text));
    } catch (err) {
      this.log.warn({ file: this.file, err: messageOf(err).slice(0, 300) }, 'saved QoS state is malformed; starting afresh');
      return undefined;
    }
    const { savedAt, ...rest } = parsed;
    this.lastWritten = JSON.stringify(rest);
    return {
      savedAt,
      state: {
        allowanceCores: parsed.allowanceCores,
        psiFactor: parsed.psiFactor,
        psiPressurePct: parsed.psiPressurePct,
        memory: { stepsAbove: parsed.memory.stepsAbove },
        exclusive: new Map(Object.entries(parsed.exclusive)),
        lastShares: new Map(Object.entries(parsed.lastShares)),
      },
    };
  }

  /** Save `state` (soon, in the background) unless it is what the file already holds. */
  save(state: QosState): void {
    this.pending = state;
    this.writing ??= this.drain().finally(() => (this.writing = undefined));
  }

  /** Wait until everything saved so far is on disk (or has failed, logged). */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private async drain(): Promise<void> {
    while (this.pending) {
      const body = toFile(this.pending);
      this.pending = undefined;
      const key = JSON.stringify(body);
      if (key === this.lastWritten) continue;
      try {
        await writeFileAtomic(this.file, JSON.stringify({ ...body, savedAt: new Date().toISOString() }) + '\n', 0o600, false);
        this.lastWritten = key;
      } catch (err) {
        this.log.warn({ file: this.file, err: messageOf(err) }, 'cannot save the QoS state; a restart would start the loop afresh');
      }
    }
  }
}
