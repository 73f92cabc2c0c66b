/** Pod classes from annotations and labels, defaults, priority and memory requests. */
import { describe, expect, it } from 'vitest';
import { classify, isKubeletBestEffort, parseQuantity, priorityOf } from '../../../src/qos/classes.js';
import { DEFAULT_POLICY } from '../../../src/qos/policy/schema.js';

const pod = (annotations: Record<string, string> = {}, labels: Record<string, string> = {}, cgroupParent = '') => ({ annotations, labels, cgroupParent });

describe('classify', () => {
  it('takes berth.dev/qos-class from the annotation, then the label, then Koordinator’s label', () => {
    expect(classify(pod({ 'berth.dev/qos-class': 'BE' }, { 'berth.dev/qos-class': 'LSR' }), DEFAULT_POLICY)).toMatchObject({ cls: 'BE', source: 'annotation berth.dev/qos-class' });
    expect(classify(pod({}, { 'berth.dev/qos-class': 'lsr', 'koordinator.sh/qosClass': 'BE' }), DEFAULT_POLICY).cls).toBe('LSR');
    expect(classify(pod({}, { 'koordinator.sh/qosClass': 'BE' }), DEFAULT_POLICY)).toMatchObject({ cls: 'BE', source: 'label koordinator.sh/qosClass' });
  });

  it('defaults kubelet BestEffort pods to BE and the rest to LS, configurably', () => {
    expect(classify(pod({}, {}, '/kubepods/besteffort/pod123'), DEFAULT_POLICY).cls).toBe('BE');
    expect(classify(pod({}, {}, 'kubepods-besteffort-pod123.slice'), DEFAULT_POLICY).cls).toBe('BE');
    expect(classify(pod({}, {}, '/kubepods/burstable/pod123'), DEFAULT_POLICY).cls).toBe('LS');
    expect(classify(pod(), DEFAULT_POLICY).cls).toBe('LS');
    // Pods run without a kubelet (berth run) carry their tier in an annotation.
    expect(classify(pod({ 'berth.dev/qos-tier': 'BestEffort' }), DEFAULT_POLICY)).toMatchObject({ cls: 'BE', source: 'default (berth.dev/qos-tier BestEffort)' });
    expect(classify(pod({ 'berth.dev/qos-tier': 'Burstable' }), DEFAULT_POLICY).cls).toBe('LS');
    const policy = { ...DEFAULT_POLICY, defaultClass: { kubeletBestEffort: 'LS' as const, other: 'SYSTEM' as const } };
    expect(classify(pod({}, {}, '/kubepods/besteffort/pod1'), policy).cls).toBe('LS');
    expect(classify(pod(), policy).cls).toBe('SYSTEM');
  });

  it('warns about a value it does not understand and falls back', () => {
    const c = classify(pod({ 'berth.dev/qos-class': 'batch' }), DEFAULT_POLICY);
    expect(c.cls).toBe('LS');
    expect(c.warning).toMatch(/"batch" is not one of LSE, LSR, LS, BE, SYSTEM/);
  });

  it('recognises kubelet BestEffort parents only', () => {
    expect(isKubeletBestEffort('/kubepods/besteffort')).toBe(true);
    expect(isKubeletBestEffort('/kubepods/burstable/podbesteffortish')).toBe(false);
  });
});

describe('priority and quantities', () => {
  it('reads berth.dev/priority or koordinator.sh/priority, default 0', () => {
    expect(priorityOf({ annotations: { 'berth.dev/priority': '-5' }, labels: {} })).toBe(-5);
    expect(priorityOf({ annotations: {}, labels: { 'koordinator.sh/priority': '7000' } })).toBe(7000);
    expect(priorityOf({ annotations: { 'berth.dev/priority': 'high' }, labels: {} })).toBe(0);
  });

  it('parses Kubernetes memory quantities', () => {
    expect(parseQuantity('256Mi')).toBe(256 * 2 ** 20);
    expect(parseQuantity('1G')).toBe(1e9);
    expect(parseQuantity('1.5Gi')).toBe(1.5 * 2 ** 30);
    expect(parseQuantity('1048576')).toBe(1048576);
    expect(parseQuantity('12 parsecs')).toBeUndefined();
    expect(parseQuantity(undefined)).toBeUndefined();
  });
});
