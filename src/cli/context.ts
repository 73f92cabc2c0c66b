/**
 * What every command gets: the sockets, the output format, lazily opened CRI and admin
 * clients, and the process streams (so tests and the program can substitute them).
 */
import { AdminClient } from '../admin/client.js';
import { criClient, type CriClient } from './cri-client.js';
import { usageError } from './errors.js';

export const DEFAULT_SOCKET = '/run/berth/berth.sock';

export type OutputFormat = 'table' | 'json' | 'yaml';
export const OUTPUT_FORMATS: OutputFormat[] = ['table', 'json', 'yaml'];

export interface GlobalOptions {
  socket?: string;
  adminSocket?: string;
  output?: string;
}

export interface Io {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  stdin: NodeJS.ReadStream;
}

/** The admin socket berthd opens beside a CRI socket: <path minus .sock>-admin.sock. */
export function adminSocketFor(criSocket: string): string {
  return criSocket.replace(/(\.sock)?$/, '-admin.sock');
}

function stripUnix(s: string): string {
  return s.replace(/^unix:(\/\/)?/, '');
}

export class CliContext {
  readonly socket: string;
  readonly adminSocket: string;
  readonly output: OutputFormat;
  private cri: CriClient | undefined;
  private adminClient: AdminClient | undefined;

  constructor(
    opts: GlobalOptions,
    readonly io: Io = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin },
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.socket = stripUnix(opts.socket ?? env.BERTH_SOCKET ?? DEFAULT_SOCKET);
    this.adminSocket = stripUnix(opts.adminSocket ?? env.BERTH_ADMIN_SOCKET ?? adminSocketFor(this.socket));
    const out = opts.output ?? 'table';
    if (!OUTPUT_FORMATS.includes(out as OutputFormat)) throw usageError(`-o/--output must be one of ${OUTPUT_FORMATS.join(', ')}, not ${JSON.stringify(out)}`);
    this.output = out as OutputFormat;
  }

  get runtime(): CriClient['runtime'] {
    return this.criClient().runtime;
  }

  get image(): CriClient['image'] {
    return this.criClient().image;
  }

  get admin(): AdminClient {
    this.adminClient ??= new AdminClient(this.adminSocket);
    return this.adminClient;
  }

  private criClient(): CriClient {
    this.cri ??= criClient(this.socket);
    return this.cri;
  }

  /** Write a line (or lines) to stdout. */
  print(text: string): void {
    this.io.stdout.write(text.endsWith('\n') ? text : text + '\n');
  }

  /** Write a line to stderr. */
  note(text: string): void {
    this.io.stderr.write(text.endsWith('\n') ? text : text + '\n');
  }

  close(): void {
    this.cri?.close();
    this.cri = undefined;
  }
}
