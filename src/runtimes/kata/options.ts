/**
 * The shim options of VM runtimes: containerd's CRI plugin sends every non-runc shim a
 * `runtimeoptions.v1.Options` message (package runtimeoptions.v1: type_url = 1,
 * config_path = 2, config_body = 3), packed in an Any whose type URL is the bare message
 * name. containerd-shim-kata-v2 reads `config_path` from the Create request's options to pick
 * its configuration file; the same Any goes to the shim's `start` on stdin, where Kata
 * ignores it. Encoded by hand: three scalar fields do not justify a generated module.
 */
import { BinaryReader, BinaryWriter } from '@bufbuild/protobuf/wire';
import { Any } from '../../gen/google/protobuf/any.js';
import { invalidArgument } from '../../util/errors.js';

export const RUNTIME_OPTIONS_TYPE_URL = 'runtimeoptions.v1.Options';

export interface RuntimeOptions {
  /** Type of the content of the config file (unused by Kata). */
  typeUrl: string;
  /** Absolute path of the runtime's configuration file. */
  configPath: string;
  /** Inline configuration, used when configPath is empty (unused by Kata's Go shim). */
  configBody: Uint8Array;
}

export function encodeRuntimeOptions(o: Partial<RuntimeOptions>): Uint8Array {
  const w = new BinaryWriter();
  if (o.typeUrl) w.uint32(10).string(o.typeUrl);
  if (o.configPath) w.uint32(18).string(o.configPath);
  if (o.configBody && o.configBody.length > 0) w.uint32(26).bytes(o.configBody);
  return w.finish();
}

export function decodeRuntimeOptions(bytes: Uint8Array): RuntimeOptions {
  const r = new BinaryReader(bytes);
  const out: RuntimeOptions = { typeUrl: '', configPath: '', configBody: new Uint8Array() };
  while (r.pos < r.len) {
    const tag = r.uint32();
    switch (tag) {
      case 10:
        out.typeUrl = r.string();
        break;
      case 18:
        out.configPath = r.string();
        break;
      case 26:
        out.configBody = r.bytes();
        break;
      default:
        r.skip(tag & 7);
    }
  }
  return out;
}

/** The options Any for a Kata shim (config_path set when the handler names a config file). */
export function packRuntimeOptions(o: Partial<RuntimeOptions>): Any {
  return Any.fromPartial({ typeUrl: RUNTIME_OPTIONS_TYPE_URL, value: Buffer.from(encodeRuntimeOptions(o)) });
}

export function unpackRuntimeOptions(any: Any): RuntimeOptions {
  const url = any.typeUrl.replace(/^type\.googleapis\.com\//, '');
  if (url !== RUNTIME_OPTIONS_TYPE_URL) throw invalidArgument(`expected ${RUNTIME_OPTIONS_TYPE_URL}, got ${any.typeUrl}`);
  return decodeRuntimeOptions(any.value);
}
