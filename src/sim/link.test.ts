import { describe, expect, it } from 'vitest';
import { Prng } from './prng';
import { SimLink, type InFlight, type SimLinkSettings } from './link';

/** Sends `count` messages from A, one per µs, and delivers everything in order of falling due. */
function run(settings: Partial<SimLinkSettings>, count: number, between?: (link: SimLink<number>, i: number) => void) {
  const link = new SimLink<number>('test', ['A', 'B'], new Prng(1), settings);
  const lost: [number, string][] = [];
  link.onLoss = (m, reason) => lost.push([m.msg, reason]);
  for (let i = 0; i < count; i++) {
    between?.(link, i);
    link.end('A').send(i, i);
  }
  const got: InFlight<number>[] = [];
  while (link.nextDeliveryUs() !== null) got.push(link.takeNext());
  return { link, got, lost };
}

describe('SimLink', () => {
  it('delays by delay + jitter and keeps order when inOrder; messages in flight are data', () => {
    const { got } = run({ delayUs: 100, jitterUs: 80, inOrder: true }, 50);
    expect(got.map((g) => g.msg)).toEqual([...Array(50).keys()]);
    for (const g of got) {
      expect(g.deliverUs).toBeGreaterThanOrEqual(g.sentUs + 100);
      expect([g.from, g.to]).toEqual(['A', 'B']);
    }
    for (let i = 1; i < got.length; i++) expect(got[i].deliverUs).toBeGreaterThanOrEqual(got[i - 1].deliverUs);
  });

  it('may reorder when not inOrder (jitter larger than the gap)', () => {
    const { got } = run({ delayUs: 100, jitterUs: 500, inOrder: false }, 50);
    expect(got.length).toBe(50);
    expect(got.map((g) => g.msg)).not.toEqual([...Array(50).keys()]);
  });

  it('loses about lossRate of messages, per direction when asked', () => {
    const { got, lost } = run({ delayUs: 10, jitterUs: 0, lossRate: 0.25 }, 2000);
    expect(Math.abs(got.length - 1500)).toBeLessThan(100);
    expect(lost.every(([, r]) => r === 'random-loss')).toBe(true);
    const oneWay = run({ delayUs: 10, jitterUs: 0, lossRateFrom: { B: 1 } }, 100);
    expect(oneWay.got.length).toBe(100); // only B → A loses
  });

  it('a partition loses what is in flight and everything sent until heal', () => {
    const { got, lost } = run({ delayUs: 10, jitterUs: 0 }, 6, (link, i) => {
      if (i === 2) link.partition();
      if (i === 4) link.heal();
    });
    expect(got.map((g) => g.msg)).toEqual([4, 5]);
    expect(lost).toEqual([[0, 'partitioned'], [1, 'partitioned'], [2, 'partitioned'], [3, 'partitioned']]);
  });

  it('fault injection drops the next message from one end, or one in flight by id', () => {
    const { got, lost } = run({ delayUs: 10, jitterUs: 0 }, 5, (link, i) => {
      if (i === 1) link.dropNext('A');
      if (i === 3) expect(link.drop(link.inFlight[0].id)).toBe(true);
    });
    expect(got.map((g) => g.msg)).toEqual([2, 3, 4]);
    expect(lost.map(([m, r]) => `${m}:${r}`)).toEqual(['1:fault', '0:fault']);
  });

  it('rejects nonsense settings and unknown ends', () => {
    expect(() => new SimLink('x', ['A', 'B'], new Prng(1), { lossRate: 2 })).toThrow(/loss rate/);
    expect(() => new SimLink('x', ['A', 'B'], new Prng(1)).end('C')).toThrow(/no end C/);
  });
});
