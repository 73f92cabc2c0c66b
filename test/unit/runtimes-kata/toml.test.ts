import { describe, expect, it } from 'vitest';
import { parseToml, tomlBlock, tomlString, TomlError } from '../../../src/runtimes/kata/toml.js';
import { annotationEnabled, kataConfigInfo } from '../../../src/runtimes/kata/kata-config.js';

describe('parseToml', () => {
  it('reads tables, dotted and quoted keys, scalars and comments', () => {
    const doc = parseToml(`
# comment
title = "x" # trailing
[hypervisor.qemu]
path = "/opt/kata/bin/qemu-system-x86_64"
default_vcpus = 1
default_memory = 2_048
ratio = 0.5
enable_debug = false
hex = 0xff
"quoted key" = 'literal \\n kept'
a.b.c = true
[runtime]
experimental_force_guest_pull = true
`);
    expect(doc).toEqual({
      title: 'x',
      hypervisor: {
        qemu: {
          path: '/opt/kata/bin/qemu-system-x86_64',
          default_vcpus: 1,
          default_memory: 2048,
          ratio: 0.5,
          enable_debug: false,
          hex: 255,
          'quoted key': 'literal \\n kept',
          a: { b: { c: true } },
        },
      },
      runtime: { experimental_force_guest_pull: true },
    });
  });

  it('reads multi-line arrays with comments and trailing commas, inline tables, arrays of tables', () => {
    const doc = parseToml(`
enable_annotations = [
  "enable_iommu", # why
  "cc_init_data",
]
point = { x = 1, y = "two" }
[[kbs]]
url = "a"
[[kbs]]
url = "b"
`);
    expect(doc.enable_annotations).toEqual(['enable_iommu', 'cc_init_data']);
    expect(doc.point).toEqual({ x: 1, y: 'two' });
    expect(doc.kbs).toEqual([{ url: 'a' }, { url: 'b' }]);
  });

  it('reads the four string forms with TOML escape and newline rules', () => {
    const doc = parseToml([
      'basic = "tab\\there \\u00e9 \\"q\\""',
      "lit = 'C:\\path'",
      'mlb = """',
      'one \\',
      '    two"""',
      "mll = '''",
      "first line",
      "  second ''line'''",
    ].join('\n'));
    expect(doc.basic).toBe('tab\there é "q"');
    expect(doc.lit).toBe('C:\\path');
    expect(doc.mlb).toBe('one two');
    expect(doc.mll).toBe("first line\n  second ''line");
  });

  it('refuses malformed documents, naming the line', () => {
    expect(() => parseToml('a = 1\na = 2')).toThrow(/line 2: duplicate key a/);
    expect(() => parseToml('[t]\nx=1\n[t]\n')).toThrow(/line 3: table \[t\] is defined twice/);
    expect(() => parseToml('x = "open')).toThrow(TomlError);
    expect(() => parseToml('d = 1979-05-27')).toThrow(/dates and times are not supported/);
    expect(() => parseToml('x = 1 2')).toThrow(/line 1: unexpected/);
    expect(() => parseToml('x = [1, 2')).toThrow(/expected "," or "]"/);
  });

  it('writes strings and blocks that read back unchanged', () => {
    for (const s of ['plain', 'quote " and \\ backslash', 'new\nline\ttab', '\u0001ctl', "'''triple'''", "ends with '", "ends with ''", '\nleading newline', '']) {
      expect(parseToml(`k = ${tomlString(s)}`).k).toBe(s);
      expect(parseToml(`k = ${tomlBlock(s)}`).k).toBe(s);
    }
    expect(tomlBlock('[kbc]\nname = "cc_kbc"\n')).toBe(`'''\n[kbc]\nname = "cc_kbc"\n'''`);
  });
});

describe('kataConfigInfo', () => {
  it('finds the hypervisor, its binary, enabled annotations and force guest pull', () => {
    const info = kataConfigInfo(`
[hypervisor.qemu]
path = "/opt/kata/bin/qemu-system-x86_64"
enable_annotations = ["enable_iommu", "kernel_params", "default_vcpus", "default_memory", "cc_init_data"]
[agent.kata]
dial_timeout = 45
[runtime]
experimental_force_guest_pull = false
`);
    expect(info).toEqual({
      hypervisor: { kind: 'qemu', path: '/opt/kata/bin/qemu-system-x86_64', enableAnnotations: ['enable_iommu', 'kernel_params', 'default_vcpus', 'default_memory', 'cc_init_data'] },
      forceGuestPull: false,
    });
    expect(annotationEnabled(info.hypervisor, 'cc_init_data')).toBe(true);
    expect(annotationEnabled(info.hypervisor, 'machine_type')).toBe(false);
  });

  it('matches enable_annotations as unanchored regexps, as Kata does', () => {
    const info = kataConfigInfo('[hypervisor.remote]\nenable_annotations = [".*"]\n');
    expect(info.hypervisor).toEqual({ kind: 'remote', enableAnnotations: ['.*'] });
    expect(annotationEnabled(info.hypervisor, 'cc_init_data')).toBe(true);
  });
});
