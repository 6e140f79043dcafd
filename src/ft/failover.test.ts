import { describe, expect, it } from 'vitest';
import { Failover } from './failover';

const settings = { failureTimeoutUs: 300, tasRetryUs: 50 };

describe('Failover', () => {
  it('suspects after the timeout of silence, once; anything heard resets the clock', () => {
    const f = new Failover(settings, 'B', 0, 0);
    expect(f.nextDueUs()).toBe(300);
    f.heard(200);
    expect(f.suspect(499)).toBe(false);
    expect(f.suspect(500)).toBe(true);
    expect(f.suspect(600)).toBe(false); // once
    expect(f.suspectedUs).toBe(500);
  });

  it('suspects exactly at the time it asked to be woken, despite rounding', () => {
    const f = new Failover({ failureTimeoutUs: 300_000, tasRetryUs: 50 }, 'A', 0, 0);
    f.heard(499_706.2084623992);
    expect(f.suspect(f.nextDueUs() as number)).toBe(true);
  });

  it('asks, asks again while unanswered, and takes one answer', () => {
    const f = new Failover(settings, 'B', 3, 0);
    f.suspect(300);
    f.startReplay();
    expect(f.nextDueUs()).toBeNull(); // the host wakes itself when replay ends
    expect(f.ask(310)).toBe(1);
    expect(f.askAgain(359)).toBe(false);
    expect(f.askAgain(360)).toBe(true);
    expect(f.ask(360)).toBe(2);
    expect(f.answered()).toBe(true);
    expect(f.answered()).toBe(false); // a late duplicate answer changes nothing
    expect(f.phase).toBe('done');
  });

  it('a new peer (FT VMotion) starts detection again in the new epoch', () => {
    const f = new Failover(settings, null, 0, 0);
    expect(f.nextDueUs()).toBeNull();
    f.pairWith('C', 2, 1_000);
    expect(f.peer).toBe('C');
    expect(f.epoch).toBe(2);
    expect(f.nextDueUs()).toBe(1_300);
  });
});
