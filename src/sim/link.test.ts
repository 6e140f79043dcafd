import { describe, expect, it } from 'vitest';
import { Scheduler } from './scheduler';
import { Prng } from './prng';
import { SimLink } from './link';

function setup(settings: ConstructorParameters<typeof SimLink>[3]) {
  const sched = new Scheduler();
  const link = new SimLink<number>('test', sched, new Prng(1), settings);
  const got: [number, number][] = [];
  link.onDeliver((m) => got.push([m, sched.nowUs]));
  return { sched, link, got };
}

describe('SimLink', () => {
  it('delays by delay + jitter and keeps order when inOrder', () => {
    const { sched, link, got } = setup({ delayUs: 100, jitterUs: 80, inOrder: true });
    for (let i = 0; i < 50; i++) sched.at(i, 'send', () => link.send(i));
    sched.runUntil(10_000);
    expect(got.map((g) => g[0])).toEqual([...Array(50).keys()]);
    for (const [m, t] of got) expect(t).toBeGreaterThanOrEqual(m + 100);
    for (let i = 1; i < got.length; i++) expect(got[i][1]).toBeGreaterThanOrEqual(got[i - 1][1]);
  });

  it('may reorder when not inOrder (jitter larger than the gap)', () => {
    const { sched, link, got } = setup({ delayUs: 100, jitterUs: 500, inOrder: false });
    for (let i = 0; i < 50; i++) sched.at(i, 'send', () => link.send(i));
    sched.runUntil(10_000);
    expect(got.length).toBe(50);
    expect(got.map((g) => g[0])).not.toEqual([...Array(50).keys()]);
  });

  it('loses about lossRate of messages, and everything while partitioned', () => {
    const lossy = setup({ delayUs: 10, jitterUs: 0, lossRate: 0.25 });
    for (let i = 0; i < 2000; i++) lossy.link.send(i);
    lossy.sched.runUntil(100);
    expect(Math.abs(lossy.got.length - 1500)).toBeLessThan(100);

    const { sched, link, got } = setup({ delayUs: 10, jitterUs: 0 });
    link.send(1);
    link.partition();
    link.send(2);
    sched.runUntil(50); // 1 was in flight when the link was cut: lost too
    link.heal();
    link.send(3);
    sched.runUntil(100);
    expect(got.map((g) => g[0])).toEqual([3]);
  });
});
