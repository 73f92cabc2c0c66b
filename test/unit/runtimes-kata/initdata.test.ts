import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Code, BerthError } from '../../../src/util/errors.js';
import {
  buildInitdata,
  decodeInitdata,
  encodeInitdata,
  initdataDigest,
  initdataToml,
  parseInitdata,
  validateAgentPolicyAnnotation,
  validateInitdataAnnotation,
} from '../../../src/runtimes/coco/initdata.js';
import { parseToml } from '../../../src/runtimes/kata/toml.js';

const POLICY = 'package agent_policy\n\ndefault CreateContainerRequest := true\ndefault ExecProcessRequest := false\n';

// The annotation value Kata's own unit tests use (an empty aa/cdh/policy initdata).
const KATA_SAMPLE =
  'H4sIAFlC92cAAytLLSrOzM9TsFVQMtAz1DNQ4krMSc8vyizJyAWJFWckGpmaKXFFpySWJMZyKSUm6pXk5+YoAeXU1dW5QJhLKTklA4toQX5OZnKlXlFqej6yBABS/5JkcQAAAA==';

const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return [(err as BerthError).code, (err as Error).message] as const;
  }
  throw new Error('expected a throw');
};

describe('initdata', () => {
  it('builds aa.toml, cdh.toml and policy.rego from handler settings', () => {
    const d = buildInitdata({ kbsUrl: 'http://kbs.example:8080', policy: POLICY, algorithm: 'sha384' });
    expect(d.version).toBe('0.1.0');
    expect(d.algorithm).toBe('sha384');
    expect(Object.keys(d.data)).toEqual(['aa.toml', 'cdh.toml', 'policy.rego']);
    expect(parseToml(d.data['aa.toml']!)).toEqual({ token_configs: { kbs: { url: 'http://kbs.example:8080' } } });
    expect(parseToml(d.data['cdh.toml']!)).toEqual({ kbc: { name: 'cc_kbc', url: 'http://kbs.example:8080' } });
    expect(d.data['policy.rego']).toBe(POLICY);
  });

  it('round-trips: encode → decode gives the same TOML, which parses to the same initdata', () => {
    const d = buildInitdata({ kbsUrl: 'http://10.0.0.1:8080', policy: POLICY, algorithm: 'sha256' });
    const toml = initdataToml(d);
    expect(toml).toMatch(/^version = "0\.1\.0"\nalgorithm = "sha256"\n\[data\]\n"aa\.toml" = '''\n/);
    const annotation = encodeInitdata(toml);
    expect(annotation).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(decodeInitdata(annotation)).toBe(toml);
    expect(parseInitdata(decodeInitdata(annotation))).toEqual(d);
    expect(validateInitdataAnnotation(annotation)).toEqual(d);
  });

  it("reads Kata's own sample annotation", () => {
    expect(validateInitdataAnnotation(KATA_SAMPLE)).toEqual({
      version: '0.1.0',
      algorithm: 'sha256',
      data: { 'aa.toml': '', 'cdh.toml': '', 'policy.rego': '' },
    });
  });

  it('refuses bad annotations with INVALID_ARGUMENT saying what is wrong', () => {
    const enc = (s: string) => gzipSync(Buffer.from(s)).toString('base64');
    const cases: [string, RegExp][] = [
      ['not base64!', /is not standard base64/],
      ['aGVsbG8', /is not standard base64 \(with padding\)/],
      [Buffer.from('plain text').toString('base64'), /is not gzip data/],
      [enc('version = "0.2.0"\nalgorithm = "sha256"\n[data]\n'), /version is "0\.2\.0", expected "0\.1\.0"/],
      [enc('version = "0.1.0"\nalgorithm = "md5"\n[data]\n'), /algorithm is "md5", expected one of sha256, sha384, sha512/],
      [enc('version = "0.1.0"\nalgorithm = "sha256"\n[data]\n"aa.toml" = 3\n'), /data\."aa\.toml" must be a string/],
      [enc('version = "0.1.0"\nalgorithm = "sha256"\n[data]\n"cdh.toml" = "[kbc"\n'), /data\."cdh\.toml" is not valid TOML/],
      [enc('version = "0.1.0"\nalgorithm = "sha256"\nextra = 1\n'), /unknown top-level key\(s\) extra/],
      [enc('version = "0.1.0" algorithm'), /not valid TOML: line 1/],
    ];
    for (const [value, re] of cases) {
      const [code, msg] = codeOf(() => validateInitdataAnnotation(value));
      expect(code).toBe(Code.INVALID_ARGUMENT);
      expect(msg).toMatch(/^pod annotation io\.katacontainers\.config\.hypervisor\.cc_init_data is not valid initdata: /);
      expect(msg).toMatch(re);
    }
  });

  it('validates the agent policy annotation', () => {
    expect(validateAgentPolicyAnnotation(Buffer.from(POLICY).toString('base64'))).toBe(POLICY);
    const [code, msg] = codeOf(() => validateAgentPolicyAnnotation(Buffer.from('package other\n').toString('base64')));
    expect(code).toBe(Code.INVALID_ARGUMENT);
    expect(msg).toBe('pod annotation io.katacontainers.config.agent.policy is not a valid agent policy: the decoded policy does not declare "package agent_policy"');
  });

  it('computes the digest the TEE reports: hash of the TOML, sized for the platform', () => {
    const toml = initdataToml(buildInitdata({ kbsUrl: 'http://kbs:8080', algorithm: 'sha384' }));
    expect(Buffer.from(initdataDigest(toml, 'sha384', 'tdx'), 'base64')).toHaveLength(48);
    expect(Buffer.from(initdataDigest(toml, 'sha384', 'snp'), 'base64')).toHaveLength(32);
    const sha256 = Buffer.from(initdataDigest(toml, 'sha256', 'tdx'), 'base64');
    expect(sha256).toHaveLength(48);
    expect(sha256.subarray(32).every((b) => b === 0)).toBe(true);
  });
});
