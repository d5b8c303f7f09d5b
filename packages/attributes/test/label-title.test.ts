import { describe, expect, it } from 'vitest';
import { labelTitle, titleWords } from '../src';

describe('labelTitle', () => {
  it('gives the words, their offsets and the gold spans the tagger learns from', () => {
    const l = labelTitle({
      title: 'Ellie Shoes  Women’s 8400, Red Patent, 14 M US',
      category: 'Shoes',
      attributes: { Brand: 'Ellie Shoes', Color: 'Red Patent', Size: '14 M US', Material: 'Suede', Gender: 'n/a' },
    });
    expect(l.words).toEqual(titleWords('Ellie Shoes  Women’s 8400, Red Patent, 14 M US'));
    for (const [w, [s, e]] of l.offsets.entries()) expect(l.title.slice(s, e)).toBe(l.words[w]);
    expect(l.attributes).toContain('brand');
    expect(l.attributes).toContain('material');
    const byAttr = Object.fromEntries(l.spans.map(([a, s, e]) => [a, l.words.slice(s, e).join(' ')]));
    // A value that is not in the title and an n/a one have no span.
    expect(byAttr).toEqual({ brand: 'Ellie Shoes', color: 'Red Patent', size: '14 M US' });
  });

  it('places the longest value first and never overlaps spans', () => {
    const l = labelTitle({ title: 'Oral-B Pro-Health Toothbrush, Soft', category: 'Toothbrush', attributes: { Brand: 'Oral-B', 'Sub brand': 'Oral-B Pro-Health' } });
    const spans = l.spans.map(([a, s, e]) => [a, l.title.slice(l.offsets[s]![0], l.offsets[e - 1]![1])]);
    expect(spans[0]?.[1]).toBe('Oral-B Pro-Health');
    // The shorter value only fits inside the longer one, which is taken: no span for it.
    expect(spans).toHaveLength(1);
  });
});
