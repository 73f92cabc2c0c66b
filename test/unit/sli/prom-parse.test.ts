import { describe, expect, it } from 'vitest';
import { parseExposition, samplesOf } from './prom-parse.js';

const good = `# HELP a_total A counter.
# TYPE a_total counter
a_total{x="1"} 3
a_total{x="2",y="q\\"uote\\\\ \\n"} 4.5e2
# HELP h A histogram.
# TYPE h histogram
h_bucket{le="0.1"} 1
h_bucket{le="1"} 2
h_bucket{le="+Inf"} 3
h_sum 4.2
h_count 3
# TYPE g gauge
g NaN
g{k="v"} -Inf 1700000000000
`;

describe('strict exposition parser (test helper)', () => {
  it('parses families, escapes, histograms, special values and timestamps', () => {
    const f = parseExposition(good);
    expect([...f.keys()]).toEqual(['a_total', 'h', 'g']);
    expect(f.get('a_total')!.type).toBe('counter');
    expect(samplesOf(f, 'a_total')[1]!.labels.y).toBe('q"uote\\ \n');
    expect(samplesOf(f, 'a_total')[1]!.value).toBe(450);
    expect(samplesOf(f, 'h_bucket')).toHaveLength(3);
    expect(samplesOf(f, 'g')[1]!.timestampMs).toBe(1700000000000);
  });

  it.each([
    ['a duplicate series', 'x{a="1",b="2"} 1\nx{b="2",a="1"} 2\n', /duplicate series/],
    ['a duplicate label', 'x{a="1",a="2"} 1\n', /duplicate label/],
    ['a bad metric name', '1x 1\n', /bad metric name/],
    ['a bad label name', 'x{1a="v"} 1\n', /bad label name/],
    ['an unquoted label value', 'x{a=v} 1\n', /quoted/],
    ['a bad escape', 'x{a="\\t"} 1\n', /bad escape/],
    ['a bad value', 'x 1,5\n', /bad value/],
    ['a missing value', 'x{a="1"}\n', /expected "value/],
    ['a TYPE after samples', 'x 1\n# TYPE x gauge\n', /TYPE for x after/],
    ['a second TYPE', '# TYPE x gauge\n# TYPE x gauge\n', /second TYPE/],
    ['split families', 'x 1\ny 1\nx{a="1"} 2\n', /not contiguous/],
    ['a negative counter', '# TYPE c counter\nc -1\n', /counter c has value/],
    ['non-cumulative buckets', '# TYPE h histogram\nh_bucket{le="1"} 3\nh_bucket{le="+Inf"} 2\nh_count 2\n', /not cumulative/],
    ['+Inf != count', '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_count 3\n', /_count/],
    ['no trailing newline', 'x 1', /end with a newline/],
  ])('rejects %s', (_what, text, err) => {
    expect(() => parseExposition(text)).toThrow(err);
  });
});
