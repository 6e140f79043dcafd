import { describe, expect, it } from 'vitest';
import { Scheduler, SchedulerError } from './scheduler';

describe('Scheduler', () => {
  it('runs events in (time, insertion) order and advances virtual time', () => {
    const s = new Scheduler();
    const seen: string[] = [];
    s.at(30, 'c', () => seen.push(`c@${s.nowUs}`));
    s.at(10, 'a1', () => seen.push(`a1@${s.nowUs}`));
    s.at(10, 'a2', () => {
      seen.push(`a2@${s.nowUs}`);
      s.after(5, 'b', () => seen.push(`b@${s.nowUs}`));
      s.at(10, 'a3', () => seen.push(`a3@${s.nowUs}`)); // same time, scheduled later: runs after a2
    });
    s.runUntil(100);
    expect(seen).toEqual(['a1@10', 'a2@10', 'a3@10', 'b@15', 'c@30']);
    expect(s.nowUs).toBe(100);
  });

  it('stops at the time limit and when the stop predicate holds', () => {
    const s = new Scheduler();
    let n = 0;
    for (let t = 1; t <= 10; t++) s.at(t, 'tick', () => n++);
    s.runUntil(4);
    expect(n).toBe(4);
    s.runUntil(100, () => n === 6);
    expect(n).toBe(6);
    expect(s.nowUs).toBe(6);
  });

  it('refuses to schedule in the past', () => {
    const s = new Scheduler();
    s.runUntil(50);
    expect(() => s.at(10, 'late', () => undefined)).toThrow(SchedulerError);
  });
});
