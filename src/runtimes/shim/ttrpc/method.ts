/**
 * A unary method as ts-proto describes it in the generated `*Service` objects (the grpc-js
 * service definitions double as ttrpc method tables: `path` is "/<package>.<Service>/<Method>",
 * which is exactly the service/method pair ttrpc sends).
 */
export interface ClientMethod<Req, Res> {
  readonly path: string;
  requestSerialize(value: Req): Buffer;
  responseDeserialize(value: Buffer): Res;
}

export interface ServerMethod<Req, Res> {
  readonly path: string;
  requestDeserialize(value: Buffer): Req;
  responseSerialize(value: Res): Buffer;
}

/** "/containerd.task.v2.Task/Create" → { service: "containerd.task.v2.Task", method: "Create" }. */
export function splitMethodPath(path: string): { service: string; method: string } {
  const trimmed = path.startsWith('/') ? path.slice(1) : path;
  const slash = trimmed.lastIndexOf('/');
  if (slash <= 0 || slash === trimmed.length - 1) {
    throw new Error(`ttrpc method path ${JSON.stringify(path)} is not "/<service>/<method>"`);
  }
  return { service: trimmed.slice(0, slash), method: trimmed.slice(slash + 1) };
}

/** "unix:///run/x.sock" or "/run/x.sock" → "/run/x.sock". */
export function socketPathOf(address: string): string {
  const path = address.startsWith('unix://') ? address.slice('unix://'.length) : address;
  if (!path) throw new Error(`empty ttrpc address ${JSON.stringify(address)}`);
  return path;
}

export type Metadata = Record<string, string | readonly string[]>;

/** Flatten metadata into the repeated KeyValue list of ttrpc.Request (keys lower-cased). */
export function metadataPairs(...sources: (Metadata | undefined)[]): { key: string; value: string }[] {
  const merged = new Map<string, string[]>();
  for (const src of sources) {
    if (!src) continue;
    for (const [k, v] of Object.entries(src)) merged.set(k.toLowerCase(), typeof v === 'string' ? [v] : [...v]);
  }
  const out: { key: string; value: string }[] = [];
  for (const [key, values] of merged) for (const value of values) out.push({ key, value });
  return out;
}
