import { describe, expect, it } from 'vitest';
import { runUrl, settingsFromUrl } from './url';
import { DEFAULT_SETTINGS, startOptions, validateSettings } from './settings';

describe('settings from the URL', () => {
  it('reads the guest, numbers and switches', () => {
    const r = settingsFromUrl('?guest=kv&seed=7&outputRule=0&load=off&channelDelayUs=200', DEFAULT_SETTINGS);
    expect(r.error).toBeNull();
    expect(r.settings).toMatchObject({ guest: 'kv', seed: 7, channelDelayUs: 200 });
    expect(r.settings.switches.outputRule).toBe(false);
    expect(r.settings.switches.testAndSet).toBe(true);
    expect(r.load).toBe(false);
  });

  it('takes a fault script, and refuses one that does not parse', () => {
    const r = settingsFromUrl(`?script=${encodeURIComponent('partition logging at 402ms; kill primary at 402ms')}`, DEFAULT_SETTINGS);
    expect(r.error).toBeNull();
    expect(r.settings.script).toBe('partition logging at 402ms; kill primary at 402ms');
    expect(settingsFromUrl('?script=explode%20at%201s', DEFAULT_SETTINGS).error).toMatch(/script: unknown action "explode"/);
  });

  it('reports what it cannot use and keeps the defaults for a bad value', () => {
    expect(settingsFromUrl('?colour=red', DEFAULT_SETTINGS).error).toMatch(/unknown parameter "colour"/);
    expect(settingsFromUrl('?guest=doom', DEFAULT_SETTINGS).error).toMatch(/guest "doom"/);
    const bad = settingsFromUrl('?failureTimeoutMs=abc', DEFAULT_SETTINGS);
    expect(bad.error).toMatch(/failure timeout/);
    expect(bad.settings).toEqual(DEFAULT_SETTINGS);
  });
});

describe('a run as a URL', () => {
  it('names what differs from the defaults and the script, and reads back as the same settings', () => {
    const s = { ...DEFAULT_SETTINGS, seed: 9, channelDelayUs: 2000, switches: { ...DEFAULT_SETTINGS.switches, outputRule: false } };
    const url = runUrl('http://x/', s, 'kill primary at 402000us', false);
    expect(url).toBe('http://x/?seed=9&channelDelayUs=2000&outputRule=0&load=0&script=kill+primary+at+402000us');
    const back = settingsFromUrl(new URL(url).search, DEFAULT_SETTINGS);
    expect(back.settings).toEqual({ ...s, script: 'kill primary at 402000us' });
    expect(back.load).toBe(false);
  });
});

describe('settings to the runtime', () => {
  it('the FT settings and links the runtime takes, switches included', () => {
    const o = startOptions({ ...DEFAULT_SETTINGS, backupSpeedPct: 50, switches: { ...DEFAULT_SETTINGS.switches, testAndSet: false } }, new Uint8Array(4), true);
    expect(o.ft).toMatchObject({ failureTimeoutUs: 300_000, heartbeatIntervalUs: 50_000, testAndSet: false, outputRule: true });
    expect(o.backupSpeedIps).toBe((o.speedIps as number) / 2);
    expect(o.loggingLink).toEqual({ delayUs: 50, jitterUs: 20 });
  });

  it('refuses a heartbeat no shorter than the timeout', () => {
    expect(() => validateSettings({ ...DEFAULT_SETTINGS, heartbeatIntervalMs: 300 })).toThrow(/shorter than the failure timeout/);
  });
});
