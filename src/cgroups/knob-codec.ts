/**
 * Building blocks for typed knobs: how a value is written to and read from a cgroup
 * directory for one cgroup version, and what the kernel is expected to read back.
 */
import { join } from 'node:path';
import { internal, invalidArgument } from '../util/errors.js';
import { cgroupFileError, readCgroupFile, writeCgroupFile } from './fsio.js';
import { parseInteger, parseLimit, parseWeight } from './parse.js';
import { pageFloor } from './convert.js';
import type { Max } from './types.js';

/** Reads a whole file by path (e.g. through kept descriptors: src/util/kernel-files.ts); throws Node errors. */
export type FileRead = (path: string) => string;

export interface KnobEnv {
  /** Bytes per page, for the kernel's rounding of memory limits. */
  pageSize: number;
}

/** One knob for one cgroup version, bound to a cgroup directory at call time. */
export interface KnobImpl<T> {
  /** The files involved (first one is the main file). */
  files: string[];
  /** `rd` reads the files (default: open, read, close). */
  read(dir: string, rd?: FileRead): T;
  write(dir: string, value: T, env: KnobEnv): Promise<void>;
  /** What read() of `dir` should return after write(dir, value) succeeded. */
  expected(value: T, env: KnobEnv, dir: string): T;
}

/** How a value maps to the text of one file. */
export interface Codec<T> {
  encode(value: T): string;
  /** undefined when the text is not a valid value. */
  decode(text: string): T | undefined;
  /** The kernel's own normalisation of a written value (page rounding …), applied to decode(encode(v)). */
  kernel?(value: T, env: KnobEnv): T;
}

/** Read and decode one file, INTERNAL if its content is not what the codec expects. */
export function readWith<T>(dir: string, file: string, codec: Codec<T>, rd?: FileRead): T {
  const path = join(dir, file);
  const text = rd ? readVia(rd, path) : readCgroupFile(path);
  const v = codec.decode(text);
  if (v === undefined) throw internal(`read ${path}: unexpected content ${JSON.stringify(text.trim().slice(0, 80))}`);
  return v;
}

function readVia(rd: FileRead, path: string): string {
  try {
    return rd(path);
  } catch (err) {
    throw cgroupFileError('read', path, err);
  }
}

/** A knob stored in a single file. */
export function fileKnob<T>(file: string, codec: Codec<T>): KnobImpl<T> {
  return {
    files: [file],
    read: (dir, rd) => readWith(dir, file, codec, rd),
    write: async (dir, value) => {
      const text = codec.encode(value);
      await writeCgroupFile(join(dir, file), text, `${file}=${text}`);
    },
    expected: (value, env) => {
      const roundTrip = codec.decode(codec.encode(value));
      if (roundTrip === undefined) throw internal(`codec for ${file} cannot decode its own encoding of ${JSON.stringify(value)}`);
      return codec.kernel ? codec.kernel(roundTrip, env) : roundTrip;
    },
  };
}

export const intCodec: Codec<number> = {
  encode: (v) => String(v),
  decode: parseInteger,
};

export const boolCodec: Codec<boolean> = {
  encode: (v) => (v ? '1' : '0'),
  decode: (t) => {
    const n = parseInteger(t);
    return n === undefined ? undefined : n !== 0;
  },
};

/** An integer or 'max'; `unlimited` is how this file spells unlimited on write. */
export function limitCodec(unlimited: '-1' | 'max'): Codec<number | Max> {
  return { encode: (v) => (v === 'max' ? unlimited : String(v)), decode: parseLimit };
}

/** A memory size: like limitCodec, plus the kernel's rounding down to whole pages. */
export function bytesCodec(unlimited: '-1' | 'max'): Codec<number | Max> {
  return {
    ...limitCodec(unlimited),
    kernel: (v, env) => (v === 'max' ? 'max' : pageFloor(v, env.pageSize)),
  };
}

/** An integer in a converted unit: written as to(v), read back as from(file value). */
export function convertedCodec(to: (v: number) => number, from: (v: number) => number): Codec<number> {
  return {
    encode: (v) => String(to(v)),
    decode: (t) => {
      const n = parseInteger(t);
      return n === undefined ? undefined : from(n);
    },
  };
}

/** Weight files that may print "default N" (v2 io.weight, io.bfq.weight). */
export function weightCodec(to: (v: number) => number = (v) => v, from: (v: number) => number = (v) => v): Codec<number> {
  return {
    encode: (v) => String(to(v)),
    decode: (t) => {
      const n = parseWeight(t);
      return n === undefined ? undefined : from(n);
    },
  };
}

/** Validation helpers: throw INVALID_ARGUMENT naming the knob. */
export function requireIntIn(knob: string, v: unknown, lo: number, hi: number): void {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < lo || v > hi) {
    throw invalidArgument(`${knob} must be an integer in [${lo}, ${hi}], got ${JSON.stringify(v)}`);
  }
}

export function requireLimit(knob: string, v: unknown, lo = 0): void {
  if (v === 'max') return;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < lo) {
    throw invalidArgument(`${knob} must be an integer >= ${lo} or "max", got ${JSON.stringify(v)}`);
  }
}
