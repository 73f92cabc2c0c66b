import { describe, expect, it } from 'vitest';
import { expand, resolveEnv } from '../../../src/cli/manifest/env.js';
import { parseResolvConf, podDns } from '../../../src/cli/manifest/dns.js';
import type { PodSpec } from '../../../src/cli/manifest/schema.js';

const facts = { name: 'web', namespace: 'ns', uid: 'u-1', labels: { app: 'a' }, annotations: { note: 'n' }, podIP: '10.0.0.5', hostIP: '192.168.1.2', nodeName: 'node1' };

describe('env and $(VAR) expansion', () => {
  it('expands defined references, keeps undefined ones, and $$ escapes', () => {
    const vars: Record<string, string> = { A: 'x', B: 'y' };
    const l = (n: string) => vars[n];
    expect(expand('$(A)-$(B)', l)).toBe('x-y');
    expect(expand('$(C) $$(A) $$ $A $', l)).toBe('$(C) $(A) $ $A $');
    expect(expand('$(A', l)).toBe('$(A');
  });

  it('env values see earlier variables; command and args see all; fieldRefs read the pod', () => {
    const r = resolveEnv(
      [
        { name: 'HOST', value: 'h-$(PORT)' },
        { name: 'PORT', value: '80' },
        { name: 'URL', value: 'http://$(POD_IP):$(PORT)' },
        { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
        { name: 'NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
      ],
      ['echo', '$(URL)'],
      ['$(POD_IP)', '$(NOPE)'],
      facts,
    );
    expect(Object.fromEntries(r.envs.map((e) => [e.key, e.value]))).toEqual({ HOST: 'h-$(PORT)', PORT: '80', URL: 'http://$(POD_IP):80', POD_IP: '10.0.0.5', APP: 'a', NS: 'ns' });
    expect(r.command).toEqual(['echo', 'http://$(POD_IP):80']);
    expect(r.args).toEqual(['10.0.0.5', '$(NOPE)']);
  });
});

describe('pod DNS', () => {
  const host = '# generated\nnameserver 1.1.1.1\nnameserver 8.8.8.8\nsearch corp.example\noptions ndots:2 edns0\n';
  const spec = (s: Partial<PodSpec>) => ({ containers: [], ...s }) as unknown as PodSpec;

  it('parses resolv.conf', () => {
    expect(parseResolvConf(host)).toEqual({ servers: ['1.1.1.1', '8.8.8.8'], searches: ['corp.example'], options: ['ndots:2', 'edns0'] });
  });

  it('leaves the host resolv.conf alone without dnsConfig; merges dnsConfig over it; None uses dnsConfig only', () => {
    const w: string[] = [];
    expect(podDns(spec({}), host, w)).toBeUndefined();
    expect(podDns(spec({ dnsPolicy: 'Default' }), host, w)).toBeUndefined();
    expect(podDns(spec({ dnsConfig: { nameservers: ['9.9.9.9'], searches: ['a.b'], options: [{ name: 'ndots', value: '5' }, { name: 'rotate' }] } }), host, w)).toEqual({
      servers: ['1.1.1.1', '8.8.8.8', '9.9.9.9'],
      searches: ['corp.example', 'a.b'],
      options: ['ndots:5', 'edns0', 'rotate'],
    });
    expect(podDns(spec({ dnsPolicy: 'None', dnsConfig: { nameservers: ['9.9.9.9'] } }), host, w)).toEqual({ servers: ['9.9.9.9'], searches: [], options: [] });
    expect(w).toEqual([]);
  });

  it('keeps at most 3 nameservers and says which were dropped', () => {
    const w: string[] = [];
    const d = podDns(spec({ dnsConfig: { nameservers: ['9.9.9.9', '4.4.4.4'] } }), host, w)!;
    expect(d.servers).toEqual(['1.1.1.1', '8.8.8.8', '9.9.9.9']);
    expect(w[0]).toContain('4.4.4.4 dropped');
  });
});
