/**
 * Failure detection and the road to going live (paper §2.3; docs/design.md §4.9), as one small
 * state machine a VM host owns. It decides nothing about the guest; it says when the peer is
 * suspected, when to ask the disk server for test-and-set (again, while it does not answer), and
 * what the answer means. The host does the role changes.
 *
 *   paired ──(silence ≥ failureTimeoutUs)──▶ suspected
 *   backup:  replaying (every buffered entry, output still suppressed) ──▶ asking
 *   primary: asking at once (held output stays held)
 *   asking ──won──▶ live            asking ──lost──▶ halted
 *
 * "Silence" is every message on the logging channel: heartbeats, batches, acks, resend requests.
 * Heartbeats are their own messages, so a full log buffer cannot make a healthy peer look dead.
 */

export type FailoverPhase = 'paired' | 'suspected' | 'replaying' | 'asking' | 'done';

export interface FailoverState {
  phase: FailoverPhase;
  peer: string | null;
  epoch: number;
  lastHeardUs: number;
  suspectedUs: number | null;
  replayDoneUs: number | null;
  askedUs: number | null;
  attempts: number;
}

export interface FailoverSettings {
  failureTimeoutUs: number;
  tasRetryUs: number;
}

export class Failover {
  private st: FailoverState;

  constructor(
    private readonly settings: FailoverSettings,
    peer: string | null,
    epoch: number,
    nowUs: number,
  ) {
    this.st = { phase: peer === null ? 'done' : 'paired', peer, epoch, lastHeardUs: nowUs, suspectedUs: null, replayDoneUs: null, askedUs: null, attempts: 0 };
  }

  /** A message from the peer arrived. */
  heard(nowUs: number): void {
    this.st.lastHeardUs = Math.max(this.st.lastHeardUs, nowUs);
  }

  /** True once, when the peer has been silent for the failure timeout. */
  suspect(nowUs: number): boolean {
    const st = this.st;
    // The same sum nextDueUs() wakes the host at (a difference could round below the timeout).
    if (st.phase !== 'paired' || nowUs < st.lastHeardUs + this.settings.failureTimeoutUs) return false;
    st.phase = 'suspected';
    st.suspectedUs = nowUs;
    return true;
  }

  startReplay(): void {
    this.st.phase = 'replaying';
  }

  /** The replay is over (or there was none): time to ask. Returns the attempt number. */
  ask(nowUs: number): number {
    const st = this.st;
    if (st.phase === 'replaying') st.replayDoneUs = nowUs;
    st.phase = 'asking';
    st.askedUs = nowUs;
    return ++st.attempts;
  }

  /** Whether an unanswered request is due again. */
  askAgain(nowUs: number): boolean {
    return this.st.phase === 'asking' && this.st.askedUs !== null && nowUs >= this.st.askedUs + this.settings.tasRetryUs;
  }

  /** The answer arrived: over, either way. False if no request was outstanding (a late duplicate). */
  answered(): boolean {
    if (this.st.phase !== 'asking') return false;
    this.st.phase = 'done';
    return true;
  }

  /** A new peer (FT VMotion): detection starts again from now, in a new epoch. */
  pairWith(peer: string, epoch: number, nowUs: number): void {
    this.st = { phase: 'paired', peer, epoch, lastHeardUs: nowUs, suspectedUs: null, replayDoneUs: null, askedUs: null, attempts: 0 };
  }

  /** No peer any more. */
  alone(): void {
    this.st.phase = 'done';
    this.st.peer = null;
  }

  /** When this state machine next has something to do, or null. */
  nextDueUs(): number | null {
    const st = this.st;
    if (st.phase === 'paired') return st.lastHeardUs + this.settings.failureTimeoutUs;
    if (st.phase === 'asking' && st.askedUs !== null) return st.askedUs + this.settings.tasRetryUs;
    return null;
  }

  get phase(): FailoverPhase {
    return this.st.phase;
  }
  get peer(): string | null {
    return this.st.peer;
  }
  get epoch(): number {
    return this.st.epoch;
  }
  set epoch(e: number) {
    this.st.epoch = e;
  }
  get lastHeardUs(): number {
    return this.st.lastHeardUs;
  }
  get suspectedUs(): number | null {
    return this.st.suspectedUs;
  }

  snapshot(): FailoverState {
    return { ...this.st };
  }

  restore(s: FailoverState): void {
    this.st = { ...s };
  }
}
