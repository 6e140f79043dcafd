/**
 * FT hypervisor settings: one plain object, units last in every name. `defaultFtSettings` is what
 * the simulator and the app start from; the UI and the `sim` command override single fields.
 */
export interface FtSettings {
  /**
   * This host's nominal guest speed. The primary uses it to turn instruction counts into time:
   * the `time` value a guest reads mid-slice, slice lengths up to the timer deadline, and the
   * backup's execution lag in µs (the paper measures lag in time, §3.2).
   */
  speedIps: number;
  /** Longest slice the primary runs between looks at pending events (when nothing is pending). */
  sliceInstructions: number;
  /** Send a `progress` entry when nothing else was logged for this many instructions. */
  progressIntervalInstructions: number;
  /** Log a `hash` entry (machine.stateHash()) every this many instructions, at a slice boundary. */
  hashIntervalInstructions: number;
  /**
   * Flow control: log bytes sent but not yet replayed by the backup (in flight plus waiting in the
   * backup's log buffer, the paper's §3.2 picture) that the primary allows before it stops executing.
   */
  logBufferBytesMax: number;
  /**
   * The hard cap on the backup's lag (its replay backlog, in its own replay time): past it the
   * primary stops as with a full log buffer, so a failover never has to replay for longer.
   */
  lagCapUs: number;
  /** The primary resends unacknowledged log batches when no ack advanced for this long (doubling while nothing gets through). */
  resendTimeoutUs: number;
  /** The backup repeats its cumulative ack this often, so a lost ack never leaves the primary waiting. */
  ackRepeatIntervalUs: number;
  /** Each side sends a heartbeat on the logging channel this often (its own message, never a log entry). */
  heartbeatIntervalUs: number;
  /** A VM serving alone re-announces the service address to the switch this often (µs). */
  announceIntervalUs: number;
  /**
   * Nothing heard on the logging channel (heartbeats, log, acks) for this long: the peer is
   * suspected to have failed, and test-and-set decides who goes on (docs/design.md §4.9).
   */
  failureTimeoutUs: number;
  /** A test-and-set request with no answer (the disk server unreachable) is repeated this often. */
  tasRetryUs: number;
  /** Throttling starts cutting the primary's CPU share when the backup lags more than this. */
  lagThresholdUs: number;
  /** How much one throttle adjustment changes the CPU share (a fraction: 0.05 = 5 points). */
  throttleStep: number;
  /** At most one throttle adjustment per this much virtual time: a slow feedback loop. */
  throttleIntervalUs: number;
  /** The CPU share never falls below this. */
  cpuShareMin: number;
  /**
   * Disk reads change nothing outside the VM, so by default they skip the ack wait (they still keep
   * their place in the output queue, so output order is production order). true: hold them too,
   * as the paper holds all output.
   */
  holdDiskReads: boolean;
  /** "Break it" switch for lectures: release output at once, ignoring the Output Rule. */
  outputRule: boolean;
  /** "Break it" switch: false, a VM that suspects its peer goes live without asking the disk server. */
  testAndSet: boolean;
  /**
   * "Break it" switch: false, timer interrupts are not logged; the backup takes them from its own
   * clock at its own slice boundaries.
   */
  logTimer: boolean;
  /** "Break it" switch: false, clock and RNG reads are not logged; the backup reads its own. */
  logNondet: boolean;
  /**
   * "Break it" switch: false, no bounce buffer on the backup: a logged packet's or disk read's data
   * is DMA'd into guest memory when the log entry arrives at the host, at whatever instruction the
   * backup's guest is at, instead of at the entry's icount (the completion — descriptor, status,
   * interrupt — still comes at the icount).
   */
  bounceBuffer: boolean;
}

export const defaultFtSettings: Readonly<FtSettings> = Object.freeze({
  speedIps: 5_000_000,
  sliceInstructions: 200_000,
  progressIntervalInstructions: 20_000,
  // A hash costs ~1 ms on a 16 MiB guest with few dirty pages: every 50M instructions (about a
  // second at browser speeds) keeps it well under 1% of the time. Tests hash far more often.
  hashIntervalInstructions: 50_000_000,
  logBufferBytesMax: 256 * 1024,
  lagCapUs: 500_000,
  resendTimeoutUs: 20_000,
  ackRepeatIntervalUs: 50_000,
  heartbeatIntervalUs: 50_000,
  announceIntervalUs: 100_000,
  failureTimeoutUs: 300_000,
  tasRetryUs: 50_000,
  lagThresholdUs: 50_000,
  throttleStep: 0.05,
  throttleIntervalUs: 10_000,
  cpuShareMin: 0.05,
  holdDiskReads: false,
  outputRule: true,
  testAndSet: true,
  logTimer: true,
  logNondet: true,
  bounceBuffer: true,
});

/**
 * The smallest log buffer accepted: two entry headers. Any buffer works (the primary always logs
 * an entry the backup can replay to before it stops), but a smaller one is surely a mistake.
 */
export const LOG_BUFFER_BYTES_MIN = 64;

export class FtSettingsError extends Error {
  override name = 'FtSettingsError';
}

/** Fills defaults and checks every field; throws FtSettingsError naming the bad one. */
export function resolveFtSettings(over: Partial<FtSettings> = {}): FtSettings {
  const s: FtSettings = { ...defaultFtSettings, ...over };
  const positive: (keyof FtSettings)[] = [
    'speedIps',
    'sliceInstructions',
    'progressIntervalInstructions',
    'hashIntervalInstructions',
    'logBufferBytesMax',
    'lagThresholdUs',
    'lagCapUs',
    'resendTimeoutUs',
    'ackRepeatIntervalUs',
    'heartbeatIntervalUs', 'announceIntervalUs',
    'failureTimeoutUs',
    'tasRetryUs',
    'throttleIntervalUs',
  ];
  for (const k of positive) {
    const v = s[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new FtSettingsError(`setting ${k} must be a positive number, got ${String(v)}`);
  }
  if (s.logBufferBytesMax < LOG_BUFFER_BYTES_MIN) throw new FtSettingsError(`setting logBufferBytesMax must be at least ${LOG_BUFFER_BYTES_MIN} bytes, got ${s.logBufferBytesMax}`);
  if (s.failureTimeoutUs < 2 * s.heartbeatIntervalUs) {
    throw new FtSettingsError(`setting failureTimeoutUs (${s.failureTimeoutUs}) must be at least two heartbeat intervals (${2 * s.heartbeatIntervalUs})`);
  }
  if (s.lagCapUs < s.lagThresholdUs) throw new FtSettingsError(`setting lagCapUs (${s.lagCapUs}) must be at least lagThresholdUs (${s.lagThresholdUs})`);
  for (const k of ['outputRule', 'holdDiskReads', 'testAndSet', 'logTimer', 'logNondet', 'bounceBuffer'] as const) {
    if (typeof s[k] !== 'boolean') throw new FtSettingsError(`setting ${k} must be true or false, got ${String(s[k])}`);
  }
  if (!(s.throttleStep > 0 && s.throttleStep <= 1)) throw new FtSettingsError(`setting throttleStep must be in (0, 1], got ${s.throttleStep}`);
  if (!(s.cpuShareMin > 0 && s.cpuShareMin <= 1)) throw new FtSettingsError(`setting cpuShareMin must be in (0, 1], got ${s.cpuShareMin}`);
  return s;
}
