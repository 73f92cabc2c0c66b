/**
 * Reading the CRI container log format (pure):
 *   <RFC3339Nano timestamp> <stdout|stderr> <P|F> <content>
 * A P (partial) record continues in the next record of the same stream; F ends the line.
 */

export interface CriRecord {
  timestamp: string;
  stream: 'stdout' | 'stderr';
  partial: boolean;
  content: string;
}

const RECORD = /^(\S+) (stdout|stderr) ([PF]) ?(.*)$/s;

/** One record from a line without its trailing newline, or undefined when it is not one. */
export function parseCriLine(line: string): CriRecord | undefined {
  const m = RECORD.exec(line);
  if (!m) return undefined;
  return { timestamp: m[1]!, stream: m[2] as CriRecord['stream'], partial: m[3] === 'P', content: m[4]! };
}

/**
 * Splits appended file bytes into records, keeping an unfinished last line (the writer has
 * not written its newline yet) until more bytes arrive.
 */
export class CriRecordSplitter {
  private rest = '';
  private readonly decoder = new TextDecoder('utf-8');

  push(chunk: Uint8Array): CriRecord[] {
    const text = this.rest + this.decoder.decode(chunk, { stream: true });
    const lines = text.split('\n');
    this.rest = lines.pop() ?? '';
    return lines.map(parseCriLine).filter((r): r is CriRecord => r !== undefined);
  }

  /** Forget an unfinished line (the file was rotated or truncated under it). */
  reset(): void {
    this.rest = '';
  }
}

/** Formats records for output: content, a newline after F records, optional timestamps. */
export class LineAssembler {
  private open: Partial<Record<CriRecord['stream'], boolean>> = {};

  constructor(private readonly timestamps = false) {}

  format(r: CriRecord): string {
    const prefix = this.timestamps && !this.open[r.stream] ? `${r.timestamp} ` : '';
    this.open[r.stream] = r.partial;
    return `${prefix}${r.content}${r.partial ? '' : '\n'}`;
  }
}
