import { describe, expect, it } from 'vitest';
import { loadAt, readRunFile, runFile, scriptBefore } from './run-file';
import { DEFAULT_SETTINGS } from './settings';

describe('a run as a file', () => {
  it('round-trips: settings, load, script and time', () => {
    const f = runFile({ ...DEFAULT_SETTINGS, seed: 12, switches: { ...DEFAULT_SETTINGS.switches, testAndSet: false } }, false, 'kill primary at 300000us', 812_345.7);
    const back = readRunFile(JSON.stringify(f));
    expect(back).toEqual(f);
    expect(back.nowUs).toBe(812_345.7);
    expect(back.settings.switches.testAndSet).toBe(false);
  });

  it('names what is wrong with a file that is not one', () => {
    expect(() => readRunFile('hello')).toThrow(/not a run file/);
    expect(() => readRunFile('{"format":"something else"}')).toThrow(/expected "format"/);
    const f = runFile(DEFAULT_SETTINGS, true, '', 1000);
    expect(() => readRunFile(JSON.stringify({ ...f, version: 2 }))).toThrow(/version 2/);
    expect(() => readRunFile(JSON.stringify({ ...f, script: 'explode at 1s' }))).toThrow(/unknown action "explode"/);
    expect(() => readRunFile(JSON.stringify({ ...f, settings: { ...f.settings, failureTimeoutMs: -1 } }))).toThrow(/failure timeout/);
  });

  it('forks: only the steps before the moment are kept', () => {
    expect(scriptBefore('send client 1 at 100us; kill primary at 300ms; vmotion at 1s', 500_000)).toBe('send client 1 at 100us; kill primary at 300000us');
    expect(scriptBefore('kill primary at 300ms', 300_000)).toBe('');
  });

  it('the load switch at a moment: the last switch before it, or how the run began', () => {
    const script = 'load off at 1s; send client 1 at 1500ms; load on at 2s';
    expect(loadAt(script, 500_000, true)).toBe(true);
    expect(loadAt(script, 1_500_000, true)).toBe(false);
    expect(loadAt(script, 2_000_000, true), 'a switch at the moment itself has not happened yet').toBe(false);
    expect(loadAt(script, 2_000_001, false)).toBe(true);
    expect(loadAt('', 9e9, false)).toBe(false);
  });
});
