/**
 * The page's one run: it owns the RuntimeClient (the runtime runs in the world worker), turns
 * the lecturer's buttons into runtime commands and script actions, and folds the stats the workers
 * push (~30 a second) into the store at most once per animation frame. The event stream and the
 * chart series live here in bounded rings, outside the store, so a 50-minute lecture holds the same
 * memory as a one-minute one; the timeline and charts read them when they draw.
 */
import { RuntimeClient } from '../runtime/client';
import type { RuntimeStats } from '../runtime/runtime';
import type { FaultAction } from '../sim/script';
import type { TraceEvent } from '../sim/trace';
import type { HostView } from '../ft/host-types';
import { emptyDigest, foldEvents, type Digest } from './digest';
import { PACES, startOptions, validateSettings, type UiSettings } from './settings';
import { useDashboard, type VmView } from './store';
import { cardViews, CodeReader } from './views';
import type { CheckReply, CheckRequest } from './checker.worker';
import { HistoryReader } from '../world/history';
import { runUrl } from './url';
import { seconds } from './format';
import { loadAt, readRunFile, runFile, scriptBefore, type RunFile } from './run-file';

export const EVENTS_KEPT = 20_000;
export const SERIES_KEPT = 3_000;
const CHECK_EVERY_MS = 1_000;
/**
 * A check that took d ms is not followed by another for CHECK_REST × d ms: a history that needs a
 * long search (kv; a counter whose clients always overlap, so nothing settles) keeps the checker
 * worker to about a quarter of a core, leaving the VM workers theirs.
 */
const CHECK_REST = 3;
/** The panels fed by the digest (history, disk, consoles, moments) need not redraw at frame rate. */
const DIGEST_EVERY_MS = 200;
/** The store (the cards' numbers) at most this often while a run moves. */
const PUBLISH_EVERY_MS = 66;

export interface SeriesPoint {
  tUs: number;
  lagMs: number;
  queueEntries: number;
  /** Age of the oldest output the Output Rule holds now. */
  stallMs: number;
  cpuPct: number;
  /** Logging bandwidth over the last stats interval (virtual time). */
  bandwidthMbps: number;
}

/** Bounded ring as a plain array: trimmed in chunks, so a push is O(1) amortised. */
function pushBounded<T>(xs: T[], items: readonly T[], max: number): void {
  for (const x of items) xs.push(x);
  if (xs.length > max * 1.25) xs.splice(0, xs.length - max);
}

async function fetchGuest(name: string): Promise<Uint8Array> {
  const r = await fetch(`${import.meta.env.BASE_URL}guests/${name}.elf`);
  if (!r.ok) throw new Error(`guest ${name}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export class Session {
  private client: RuntimeClient | null = null;
  private code = new CodeReader(null);
  private customElf: { bytes: Uint8Array; label: string } | null = null;
  readonly events: TraceEvent[] = [];
  readonly series: SeriesPoint[] = [];
  /** Bumped whenever the store is published (new numbers, events, series): the canvas views redraw on it. */
  version = 0;
  private digest: Digest = emptyDigest();
  /** The digest at each of the runtime's checkpoints (time travel goes back to one). */
  private readonly digestAt = new Map<number, Digest>();
  private latest: RuntimeStats | null = null;
  private errorsSeen = 0;
  private framePending = false;
  private checker: Worker | null = null;
  private checking = false;
  private checkedCompleted = -1;
  private checkId = 0;
  /** When the check in flight was posted, and when the next may start (CHECK_REST). */
  private checkPostedMs = 0;
  private nextCheckMs = 0;
  /**
   * What the checker worker holds of the history: of which run (client) and generation (a time
   * travel starts another), and each client's final rows — the next check asks only for the rest.
   */
  private held: { client: RuntimeClient | null; gen: number; from: number[] } = { client: null, gen: -1, from: [] };
  private checkTimer: ReturnType<typeof setInterval> | null = null;
  private lastBytes: { tUs: number; bytes: number } | null = null;
  private digestPublishedMs = 0;
  /** Whether steady load was on when this run started (later switches are in its script). */
  private loadAtStart = true;
  private publishedMs = 0;
  private readonly store = useDashboard;

  // ── starting ──────────────────────────────────────────────────────────────────────────────────

  /**
   * A fresh pair with the draft settings (reset, or the first load). A guest that cannot start —
   * a file that is not a RISC-V ELF — is refused with the loader's message and the run that was
   * going on goes on.
   */
  async start(settings: UiSettings = this.store.getState().draft, custom: { bytes: Uint8Array; label: string } | null = settings.guest === 'custom' ? this.customElf : null, o: { play?: boolean; load?: boolean } = {}): Promise<boolean> {
    const s = this.store.getState();
    let elf: Uint8Array;
    try {
      validateSettings(settings);
      if (settings.guest === 'custom' && !custom) throw new Error('no ELF file loaded: choose one with "Load your own ELF"');
      elf = custom ? custom.bytes : await fetchGuest(settings.guest);
    } catch (err) {
      s.notify(errorText(err), 'error');
      return false;
    }
    const next = new RuntimeClient();
    s.set({ runState: this.client ? s.runState : 'starting' });
    try {
      if (o.load !== undefined) s.set({ load: o.load });
      this.loadAtStart = this.store.getState().load;
      await next.start(startOptions(settings, elf.slice(), this.store.getState().load));
    } catch (err) {
      next.dispose();
      s.notify(`${custom ? custom.label : settings.guest}: ${errorText(err)}${this.client ? ' — the current run goes on' : ''}`, 'error');
      if (!this.client) s.set({ runState: 'error' });
      return false;
    }
    this.client?.dispose();
    this.client = next;
    this.runId++;
    if (custom) this.customElf = custom;
    this.code = new CodeReader(elf);
    this.resetView(settings, custom ? custom.label : settings.guest);
    next.onStats = (st) => this.ingest(st);
    this.startChecker();
    if (o.play === false) this.store.getState().set({ runState: 'paused' });
    else await this.play();
    return true;
  }

  /** Loads the user's own ELF into a fresh pair (no clients: it speaks no protocol we know). */
  async upload(file: File): Promise<boolean> {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const settings = { ...this.store.getState().draft, guest: 'custom' as const };
    const ok = await this.start(settings, { bytes, label: file.name });
    if (ok) this.store.getState().editDraft({ guest: 'custom' });
    return ok;
  }

  private resetView(settings: UiSettings, label: string): void {
    this.events.length = 0;
    this.series.length = 0;
    this.digest = emptyDigest();
    this.digestAt.clear();
    this.latest = null;
    this.errorsSeen = 0;
    this.lastBytes = null;
    this.checkedCompleted = -1;
    this.version++;
    this.store.getState().set({
      settings, draft: settings, guestLabel: label, vms: [], digest: this.digest, nowUs: 0, mode: 'lockstep',
      verdict: { kind: 'none', text: settings.guest === 'counter' || settings.guest === 'kv' ? 'no operations yet' : 'no clients for this guest', ops: 0 },
    });
  }

  // ── the run's controls ────────────────────────────────────────────────────────────────────────

  private need(): RuntimeClient | null {
    if (!this.client) this.store.getState().notify('no run yet: reset starts one', 'error');
    return this.client;
  }

  /** `f` on the run's client; a failure is a notice, and the answer undefined. */
  private async guard<T>(what: string, f: (c: RuntimeClient) => Promise<T>): Promise<T | undefined> {
    const c = this.need();
    if (!c) return undefined;
    try {
      return await f(c);
    } catch (err) {
      this.store.getState().notify(`${what}: ${errorText(err)}`, 'error');
      return undefined;
    }
  }

  async play(): Promise<void> {
    const pace = PACES[this.store.getState().paceIndex];
    await this.guard('play', (c) => c.play(pace));
    this.store.getState().set({ runState: 'running' });
  }

  async pause(): Promise<void> {
    await this.guard('pause', (c) => c.pause());
    this.store.getState().set({ runState: 'paused' });
    this.publish(); // the numbers where the run stopped, now — not at the next throttled update
  }

  async togglePause(): Promise<void> {
    if (this.store.getState().mode === 'free') return this.store.getState().notify('free run has no pause: each worker runs on its own clock (reset returns to lockstep)', 'error');
    if (this.store.getState().runState === 'running') await this.pause();
    else await this.play();
  }

  /** One lockstep window (paused), or: while running, pause first. */
  async step(): Promise<void> {
    if (this.store.getState().runState === 'running') await this.pause();
    await this.guard('step', (c) => c.step());
    this.publish();
  }

  /** Runs (paused) to the next log batch a primary sends, so a lecture follows the log entry by entry. */
  async stepEntry(): Promise<void> {
    if (this.store.getState().runState === 'running') await this.pause();
    const r = await this.guard('next entry', (c) => c.stepEntry());
    this.publish();
    if (r && !r.found) this.store.getState().notify('no log entry in a virtual second: a VM serving alone logs nothing', 'info');
  }

  /** The run's virtual time now, from the runtime itself (the store's may be a frame behind). */
  now(): Promise<number> {
    return this.client ? this.client.now() : Promise.resolve(0);
  }

  /** Runs (paused) to virtual time `untilUs` as fast as the workers go; answers the time reached. */
  async runTo(untilUs: number): Promise<number> {
    const c = this.need();
    if (!c) return 0;
    if (this.store.getState().runState === 'running') await this.pause();
    const now = await c.run(untilUs);
    this.store.getState().set({ runState: 'paused' });
    this.publish();
    return now;
  }

  async setPaceIndex(i: number): Promise<void> {
    const paceIndex = Math.max(0, Math.min(PACES.length - 1, i));
    this.store.getState().set({ paceIndex });
    if (this.store.getState().runState === 'running') await this.guard('pace', (c) => c.play(PACES[paceIndex]));
  }

  /** Free run: every worker on its own real clock from now on (not reproducible; reset returns to lockstep). */
  async freeRun(): Promise<void> {
    if (this.store.getState().mode === 'free') return;
    await this.guard('free run', (c) => c.freeRun());
    this.store.getState().set({ mode: 'free', runState: 'running' });
  }

  /** A fault or a client action, applied at the next window boundary and recorded in the run's script. */
  async act(action: FaultAction): Promise<void> {
    await this.guard(action.kind, (c) => c.act(action));
  }

  async setLoad(on: boolean): Promise<void> {
    this.store.getState().set({ load: on });
    await this.act({ kind: 'load', on });
  }

  /** The run so far as a script that `npm run sim` replays (lockstep). */
  script(): Promise<string> {
    return this.client ? this.client.script() : Promise.resolve('');
  }

  /**
   * A link to this run: its seed and settings, and its script — the configured steps and every
   * action taken so far, at the virtual times they happened — so the link replays it exactly.
   */
  async share(): Promise<string> {
    const s = this.store.getState();
    if (s.settings.guest === 'custom') {
      s.notify('a run of your own ELF cannot be shared by link: the file stays on this machine', 'error');
      return '';
    }
    const url = runUrl(window.location.origin + window.location.pathname, s.settings, await this.script(), this.loadAtStart);
    try {
      await navigator.clipboard.writeText(url);
      s.notify(`link copied: ${url}`);
    } catch {
      s.notify(`link to this run: ${url}`);
    }
    return url;
  }

  /**
   * Time travel in free play: back to virtual time `tUs` of this run, paused there. The runtime
   * restores its nearest checkpoint at or before `tUs` and runs on to it, the user's actions between
   * applied again; what was scripted or done at or after `tUs` is forgotten, so whatever the
   * lecturer does next forks the run from that moment. The panels go back with it: events and
   * series from the checkpoint on are dropped (`rewind`) and come again as the run reaches `tUs`.
   */
  async travelTo(tUs: number): Promise<boolean> {
    // One travel at a time; a slider released again meanwhile goes to its latest moment after it.
    if (this.travelling) {
      this.travelNext = tUs;
      return false;
    }
    this.travelling = true;
    try {
      let ok = await this.travelOnce(tUs);
      while (this.travelNext !== null) {
        const next = this.travelNext;
        this.travelNext = null;
        ok = await this.travelOnce(next);
      }
      return ok;
    } finally {
      this.travelling = false;
    }
  }

  private travelling = false;
  private travelNext: number | null = null;

  private async travelOnce(tUs: number): Promise<boolean> {
    const s = this.store.getState();
    if (s.mode === 'free') {
      s.notify('free run is not reproducible: time travel needs lockstep (reset)', 'error');
      return false;
    }
    const c = this.need();
    if (!c) return false;
    if (s.runState === 'running') await this.pause();
    // A moment after now (a slider released again while an earlier travel ran): the run goes on there.
    if (tUs > (await c.now())) return (await this.runTo(tUs)) >= tUs;
    const script = scriptBefore(await this.script(), tUs);
    this.store.getState().set({ travellingTo: tUs });
    const r = await this.guard('time travel', (x) => x.travel(tUs)).finally(() => this.store.getState().set({ travellingTo: null }));
    if (!r) return false;
    const settings = { ...this.store.getState().settings, script };
    this.store.getState().set({ settings, draft: settings, runState: 'paused', load: loadAt(script, tUs, this.loadAtStart) });
    this.runId++;
    this.publish();
    void this.check(true);
    this.store.getState().notify(`back to ${seconds(r.nowUs)}: the checkpoint at ${seconds(r.fromUs)} restored and run on to it; what happens next forks the run`, 'info');
    return true;
  }

  /**
   * Time travel back by `us` of virtual time (the ← key): from the nearest checkpoint, so it is
   * quick. Ignored while a travel is on its way (a held key repeats).
   */
  back(us = 1_000_000): Promise<boolean> {
    // The time the page shows (a frame behind at most), read at once: a repeat seen before the
    // travel starts would go back twice.
    const now = this.store.getState().nowUs;
    if (this.travelling || now <= 0) return Promise.resolve(false);
    return this.travelTo(Math.max(0, now - us));
  }

  /**
   * The run went back to `tUs` (time travel): what the panels hold from then on is dropped, and the
   * digest is the one kept at that checkpoint (folded again from the events kept if there is none).
   */
  private rewind(tUs: number): void {
    const keep = <T extends { tUs: number }>(xs: T[]): void => {
      let n = xs.length;
      while (n > 0 && xs[n - 1].tUs >= tUs) n--;
      xs.length = n;
    };
    keep(this.events);
    keep(this.series);
    for (const t of [...this.digestAt.keys()]) if (t > tUs) this.digestAt.delete(t);
    this.digest = this.digestAt.get(tUs) ?? foldEvents(emptyDigest(), this.events);
    this.lastBytes = null;
    this.checkedCompleted = -1;
    this.version++;
  }

  /** Saves the run (settings, script, time reached) as a JSON file: importing it makes the same run. */
  async exportRun(): Promise<RunFile | null> {
    const s = this.store.getState();
    if (s.settings.guest === 'custom') {
      s.notify('a run of your own ELF cannot be exported: the file stays on this machine', 'error');
      return null;
    }
    const f = runFile(s.settings, this.loadAtStart, await this.script(), await this.now());
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([JSON.stringify(f, null, 2)], { type: 'application/json' }));
    a.download = `ft-run-${s.settings.guest}-seed${s.settings.seed}-${Math.round(f.nowUs / 1000)}ms.json`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
    return f;
  }

  /** Replays a run file: the same settings and script, run to the time it had reached, paused. */
  async importRun(file: File): Promise<boolean> {
    let f: RunFile;
    try {
      f = readRunFile(await file.text());
    } catch (err) {
      this.store.getState().notify(`${file.name}: ${errorText(err)} — the current run goes on`, 'error');
      return false;
    }
    if (!(await this.start({ ...f.settings, script: f.script }, null, { play: false, load: f.load }))) return false;
    await this.runTo(f.nowUs);
    return true;
  }

  dispose(): void {
    this.client?.dispose();
    this.client = null;
    this.checker?.terminate();
    this.checker = null;
    if (this.checkTimer !== null) clearInterval(this.checkTimer);
  }

  // ── stats in, store out ───────────────────────────────────────────────────────────────────────

  private ingest(st: RuntimeStats): void {
    if (st.rewoundUs !== undefined) this.rewind(st.rewoundUs);
    pushBounded(this.events, st.events, EVENTS_KEPT);
    this.digest = foldEvents(this.digest, st.events);
    if (st.checkpoint) {
      // Every event before the checkpoint is in: this is the digest a travel back to it starts from.
      this.digestAt.set(st.checkpoint.atUs, this.digest);
      const kept = new Set(st.checkpoint.kept);
      for (const t of [...this.digestAt.keys()]) if (!kept.has(t)) this.digestAt.delete(t);
    }
    this.addPoint(st.nowUs, st.views);
    for (const e of st.errors.slice(this.errorsSeen)) this.store.getState().notify(e, 'error');
    this.errorsSeen = st.errors.length;
    this.latest = st;
    if (!this.framePending) {
      this.framePending = true;
      // Numbers that change more than ~15 times a second cannot be read anyway; fewer updates leave
      // the page's thread free (bench:ui). Paused, a step shows on the next frame.
      const waitMs = st.playing || this.store.getState().mode === 'free' ? Math.max(0, PUBLISH_EVERY_MS - (performance.now() - this.publishedMs)) : 0;
      setTimeout(() => requestAnimationFrame(() => {
        this.framePending = false;
        this.publish();
      }), waitMs);
    }
  }

  /** At most once per frame: one store update from the latest stats. */
  private publish(): void {
    this.publishedMs = performance.now();
    this.version++;
    const st = this.latest;
    if (!st) return;
    const vms: VmView[] = cardViews(st.views, this.code);
    const s = this.store.getState();
    const runState = s.runState === 'starting' ? 'running' : s.runState;
    const now = performance.now();
    const moving = st.playing || s.mode === 'free';
    // Paused, a step shows at once; running, the digest's panels redraw a few times a second.
    const digestDue = !moving || now - this.digestPublishedMs >= DIGEST_EVERY_MS;
    if (digestDue) this.digestPublishedMs = now;
    s.set({ vms, nowUs: st.nowUs, ...(digestDue ? { digest: this.digest } : {}), runState: moving ? 'running' : runState === 'running' ? 'paused' : runState });
  }

  private addPoint(tUs: number, views: readonly HostView[]): void {
    const p = views.find((v) => v.role === 'primary') ?? views.find((v) => v.role === 'live');
    if (!p) return;
    let bandwidthMbps = 0;
    if (this.lastBytes && tUs > this.lastBytes.tUs && p.bytesSent >= this.lastBytes.bytes) {
      bandwidthMbps = ((p.bytesSent - this.lastBytes.bytes) * 8) / (tUs - this.lastBytes.tUs);
    }
    this.lastBytes = { tUs, bytes: p.bytesSent };
    pushBounded(this.series, [{
      tUs, lagMs: p.lagUs / 1000, queueEntries: p.logQueueEntries,
      stallMs: p.oldestHeldSinceUs === null ? 0 : Math.max(0, tUs - p.oldestHeldSinceUs) / 1000,
      cpuPct: p.cpuShare * 100, bandwidthMbps,
    }], SERIES_KEPT);
  }

  // ── the linearizability verdict ───────────────────────────────────────────────────────────────

  private startChecker(): void {
    const guest = this.store.getState().settings.guest;
    if (this.checkTimer !== null) clearInterval(this.checkTimer);
    this.checkTimer = null;
    if (guest !== 'counter' && guest !== 'kv') return;
    if (!this.checker) {
      this.checker = new Worker(new URL('./checker.worker.ts', import.meta.url), { type: 'module', name: 'checker' });
      this.held = { client: null, gen: -1, from: [] };
      this.checker.onmessage = (ev: MessageEvent<CheckReply>) => this.verdict(ev.data);
      this.checker.onerror = (ev) => {
        ev.preventDefault();
        this.checking = false;
        this.store.getState().set({ verdict: { kind: 'unknown', text: `the checker failed: ${ev.message}`, ops: 0 } });
      };
    }
    this.checkTimer = setInterval(() => void this.check(), CHECK_EVERY_MS);
  }

  /** Bumped by every fresh pair: a scenario knows whether the run is still the one it started. */
  runId = 0;

  /**
   * Checks the whole history again when operations completed since the last check (or now,
   * `force`). Only what the checker worker lacks crosses from the world worker (historySince), so a
   * lecture's hour of operations costs the page no more at its end than at its start.
   */
  async check(force = false): Promise<void> {
    const model = this.store.getState().settings.guest;
    if (model !== 'counter' && model !== 'kv') return;
    if (force) this.checkedCompleted = -1;
    const c = this.client;
    const completed = this.digest.completed + this.digest.duplicates;
    if (!c || !this.checker || this.checking || completed === this.checkedCompleted) return;
    if (!force && performance.now() < this.nextCheckMs) return;
    this.checking = true;
    this.checkedCompleted = completed;
    try {
      const same = this.held.client === c;
      const d = await c.historySince(same ? this.held.gen : -1, same ? this.held.from : []);
      if (c !== this.client) return void (this.checking = false);
      const reset = !same || d.gen !== this.held.gen;
      this.held = { client: c, gen: d.gen, from: HistoryReader.cursorAfter(d) };
      const req: CheckRequest = { id: ++this.checkId, model, reset, delta: { start: d.start, rows: d.rows } };
      this.checker.postMessage(req);
      this.checkPostedMs = performance.now();
      const ops = d.rows.reduce((n, r, i) => n + d.start[i] + r.length, 0);
      if (this.store.getState().verdict.kind === 'none') this.store.getState().set({ verdict: { kind: 'checking', text: 'checking…', ops } });
    } catch {
      this.checking = false;
    }
  }

  private verdict(r: CheckReply): void {
    this.checking = false;
    const now = performance.now();
    this.nextCheckMs = now + CHECK_REST * (now - this.checkPostedMs);
    // The worker could not take a delta in and holds nothing now: the next check sends it all.
    if ('resync' in r && r.resync) this.held = { client: null, gen: -1, from: [] };
    if (r.id !== this.checkId) return;
    this.store.getState().set({ verdict: { kind: r.kind, text: r.text, ops: r.ops } });
  }
}

export const session = new Session();
