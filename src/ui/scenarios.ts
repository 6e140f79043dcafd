/**
 * The lecture scenarios: one per question of the lecture's FAQ or worked example of its notes, each
 * a few runs of the real pair stopped at exact virtual times, with what to look at. Times were
 * chosen with the simulator (the same runs), so each claim holds for any seed unless a phase pins
 * its own seed, and says why.
 */
import type { Scenario } from './scenario-types';

const ms = (x: number): number => Math.round(x * 1000);

/** The notes' increment example: one client, load off, ten increments (the counter at 10), then the 11th at 300 ms. */
const TEN_THEN_ONE = `${Array.from({ length: 10 }, (_, i) => `send client 1 at ${50 + i * 20}ms`).join('; ')}; send client 1 at 300ms`;
/** A 2 ms logging channel makes the increment's way slow enough to stop at each point of it. */
const INCREMENT = { clients: 1, channelDelayUs: 2000 } as const;

export const SCENARIOS: Scenario[] = [
  {
    name: 'timer-interrupt',
    title: 'A timer interrupt, logged and replayed at the same instruction',
    question: 'How can the backup take a timer interrupt at exactly the instruction the primary did? (FAQ 1)',
    phases: [{ settings: { guest: 'ticker' }, script: '' }],
    steps: [
      { phase: 0, atUs: ms(2), text: 'Two RISC-V machines run the ticker guest: a timer interrupt every few milliseconds drives a scheduler of tasks. The primary A takes each interrupt from its own clock; the backup B never looks at its clock.' },
      { phase: 0, atUs: ms(12), text: 'Each interrupt A takes is delivered at the instruction A is at, and logged with that instruction count (the timeline: A\'s log batches to B). Look at B\'s instruction counter: it stops at the icount of the next entry it holds and waits — B runs one entry behind.' },
      { phase: 0, atUs: ms(60), text: 'B delivers the interrupt at exactly the logged icount, so both run the same instructions. Every 5 000 instructions A logs a hash of its whole state; B compares its own at the same icount. The sync badge counts the checks.' },
      { phase: 0, atUs: ms(300), text: 'Hundreds of interrupts later: still in sync. Press play at a slow pace (−) to watch single entries go by on the logging channel.' },
    ],
  },
  {
    name: 'bounce-buffer',
    title: 'DMA through a bounce buffer — and the race without it',
    question: 'Why does the hypervisor copy incoming packets into guest memory only at the logged instruction? (FAQ 4)',
    phases: [
      { settings: { guest: 'counter', backupSpeedPct: 30 }, script: '' },
      // Whether the race shows depends on where the hash points fall: this seed shows it.
      { settings: { guest: 'counter', backupSpeedPct: 30, seed: 42, switches: { bounceBuffer: false } }, script: '' },
    ],
    steps: [
      { phase: 0, atUs: ms(100), text: 'Clients send requests; each packet arrives at A\'s hypervisor, which holds it in a bounce buffer and copies it into guest memory at one instruction, the one it logs (a net-rx entry). B is slower (30 % speed) and lags.' },
      { phase: 0, atUs: ms(600), text: 'B copies the packet from the log into its memory at the same icount, however far behind it runs. In sync.' },
      { phase: 1, atUs: ms(60), text: 'Now without the bounce buffer: B\'s "DMA" writes the packet into guest memory when the log entry arrives, while its guest is still at an earlier instruction. The guest\'s memory now differs from A\'s at the same icount.' },
      { phase: 1, atUs: ms(600), text: 'The hash check finds it: B\'s state hash differs from A\'s at the same instruction (the sync badge: diverged, with the icount). A real DMA device races the CPU the same way — which is why FT needs the bounce buffer.' },
    ],
  },
  {
    name: 'nondeterministic-read',
    title: 'Reading the clock and the RNG',
    question: 'What about instructions whose result differs between machines — reading the time, a random number? (FAQ 7, 8)',
    phases: [
      { settings: { guest: 'ticker' }, script: '' },
      { settings: { guest: 'ticker', switches: { logNondet: false } }, script: '' },
    ],
    steps: [
      { phase: 0, atUs: ms(30), text: 'The ticker guest reads the time (the `time` CSR) and the hardware RNG. Each read traps into A\'s hypervisor, which logs the value it returned (nondet entries); B\'s hypervisor returns the logged value, never its own.' },
      { phase: 0, atUs: ms(300), text: 'Both consoles print the same times and random numbers (B\'s greyed: suppressed). In sync.' },
      { phase: 1, atUs: ms(10), text: 'Now the reads are not logged: B reads its own clock and RNG.' },
      { phase: 1, atUs: ms(300), text: 'The first hash check after the first read differs: diverged. This is also how one finds a nondeterministic instruction the hypervisor forgot: the hash check points at the first icount where the states part.' },
    ],
  },
  {
    name: 'output-rule',
    title: 'The Output Rule: the increment example',
    question: 'Why must the primary wait for the backup\'s ack before it sends a reply? (the notes\' example: the counter at 10, a client increments)',
    phases: [
      { settings: { ...INCREMENT }, load: false, script: `${TEN_THEN_ONE}; kill primary at 300ms; send client 1 at 1000ms` },
      { settings: { ...INCREMENT }, load: false, script: `${TEN_THEN_ONE}; kill primary at 301.5ms; send client 1 at 1000ms` },
      { settings: { ...INCREMENT }, load: false, script: `${TEN_THEN_ONE}; kill primary at 304ms; send client 1 at 1000ms` },
      { settings: { ...INCREMENT }, load: false, script: `${TEN_THEN_ONE}; kill primary at 312ms; send client 1 at 1000ms` },
      { settings: { ...INCREMENT, switches: { outputRule: false } }, load: false, script: `${TEN_THEN_ONE}; partition logging at 301.5ms; kill primary at 301.5ms; send client 1 at 1000ms` },
    ],
    steps: [
      { phase: 0, atUs: ms(290), text: 'One client has incremented the counter ten times: it is at 10 on A and on B. The 11th increment is next. The logging channel is slow here (2 ms), so we can stop at every point of its way.' },
      { phase: 0, atUs: ms(1100), text: 'Point 1: A dies before the request reaches it. The client hears nothing, retries with the same seq; B has gone live and answers 11; the next increment gives 12.' },
      { phase: 1, atUs: ms(301.4), text: 'Point 2: A got the request, incremented to 11 and logged the packet — the entry is on its way to B — and the reply 11 waits in A (output stalls: 1 held). The Output Rule keeps it until B acknowledges the entry. Now A dies.' },
      { phase: 1, atUs: ms(1100), text: 'A died there. The reply never left, but the entry reached B, which replays the increment and answers the client\'s retry with 11; then 12. No value twice.' },
      { phase: 2, atUs: ms(1100), text: 'Point 3: A died after B had the entry but before the ack came back — the reply still held. Same story: 11 from B, then 12.' },
      { phase: 3, atUs: ms(1100), text: 'Point 4: A died after the ack, after it released the reply 11. B has the entry, so it is at 11 too: the next increment gives 12. Every point: 11, 12, linearizable.' },
      { phase: 4, atUs: ms(301.4), text: 'Now the Output Rule is off: A has sent the reply 11 at once, while the entry is still in flight to B. Next we cut the logging channel (the entry is lost) and kill A.' },
      { phase: 4, atUs: ms(1100), text: 'B never saw the increment: it is at 10, goes live, and answers the next increment with 11 — the client saw 11 twice. The linearizability checker says NOT linearizable.' },
    ],
  },
  {
    name: 'output-rule-cost',
    title: 'What the Output Rule costs',
    question: 'How much does waiting for the backup slow the replies? (FAQ 6; the paper\'s Table 2 in miniature)',
    phases: [
      { settings: { channelDelayUs: 50 }, script: '' },
      { settings: { channelDelayUs: 1000 }, script: '' },
      { settings: { channelDelayUs: 5000 }, script: '' },
    ],
    steps: [
      { phase: 0, atUs: ms(1000), text: 'Three clients under steady load, a 50 µs logging channel: each reply waits for one ack round trip. Look at A\'s output stalls (longest) and the clients\' latencies.' },
      { phase: 1, atUs: ms(1000), text: 'A 1 ms channel: every reply waits at least 2 ms more; the clients complete fewer operations in the same second (see "completed").' },
      { phase: 2, atUs: ms(1000), text: 'A 5 ms channel: stalls of 10 ms and more, and far fewer operations. The guest kept running all along — only its output waited. That is why the paper puts primary and backup on one fast LAN.' },
    ],
  },
  {
    name: 'split-brain',
    title: 'Split brain, and the test-and-set that prevents it',
    question: 'If the logging channel breaks, both sides think the other died. Why do they not both serve? (FAQ 5)',
    phases: [
      { settings: {}, script: 'partition logging at 300ms' },
      { settings: { switches: { testAndSet: false } }, script: 'partition logging at 300ms' },
    ],
    steps: [
      { phase: 0, atUs: ms(299), text: 'A healthy pair under load.' },
      { phase: 0, atUs: ms(300.1), text: 'The logging channel is cut. Neither VM has failed, but each hears nothing from the other.' },
      { phase: 0, atUs: ms(1000), text: 'After the failure timeout both suspect the other and ask the shared disk for test-and-set. Only one wins (the disk panel: the flag and its holder); it goes live, the other halts. Exactly one server.' },
      { phase: 1, atUs: ms(1000), text: 'Without test-and-set: both go live. Two servers answer clients, each with its own counter.' },
      { phase: 1, atUs: ms(2500), text: 'The clients see values that no single counter gives: the linearizability checker finds it.' },
    ],
  },
  {
    name: 'duplicate-output',
    title: 'Duplicate outputs, dropped by sequence number',
    question: 'Can the client get the same reply twice? What happens then? (FAQ 9)',
    phases: [
      { settings: { ...INCREMENT, failureTimeoutMs: 600 }, load: false, script: `${TEN_THEN_ONE}; partition logging at 301ms; heal at 560ms; send client 1 at 800ms` },
    ],
    steps: [
      { phase: 0, atUs: ms(301.5), text: 'The 11th increment has reached A and its reply is held by the Output Rule — and the logging channel has just been cut, so no ack comes.' },
      { phase: 0, atUs: ms(520), text: 'The client cannot tell a slow reply from a lost one: after its retry timeout it sends the request again with the same seq. The guest answers it again: a second reply, also held.' },
      { phase: 0, atUs: ms(900), text: 'The channel heals before anyone is suspected; both replies are released. The client keeps the first and drops the second by its seq (the history: "duplicate dropped"). A new primary that re-emits an output at cut-over is the same case — TCP drops such duplicates in a real system.' },
    ],
  },
  {
    name: 'disk-reissue',
    title: 'Disk I/O pending at a failure',
    question: 'What about disk requests the primary had issued when it died? (FAQ 10)',
    phases: [{ settings: {}, script: 'kill primary at 302ms' }],
    steps: [
      { phase: 0, atUs: ms(301.9), text: 'Each increment writes the counter to the shared disk. Right now A has a disk write outstanding.' },
      { phase: 0, atUs: ms(900), text: 'A died with it pending. B replayed the log: the write is one its guest issued, but no completion was ever logged. So when B goes live it re-issues every such request (the disk panel: re-issued at go-live). Writing the same block twice is harmless; the guest gets its completion.' },
    ],
  },
  {
    name: 'lag-and-throttling',
    title: 'A slow backup: lag and throttling',
    question: 'What if the backup cannot keep up?',
    phases: [{ settings: { guest: 'bench', backupSpeedPct: 50 }, script: 'kill primary at 1500ms' }],
    steps: [
      { phase: 0, atUs: ms(100), text: 'A compute-bound guest; B\'s host runs at half A\'s speed. B\'s lag grows (the lag chart).' },
      { phase: 0, atUs: ms(800), text: 'Past the lag threshold A\'s hypervisor cuts A\'s CPU share step by step (the CPU share chart), so B keeps up: the lag stops growing.' },
      { phase: 0, atUs: ms(1499), text: 'The lag stays bounded — which bounds the failover time: a backup that takes over must first replay what it has.' },
      { phase: 0, atUs: ms(2200), text: 'A killed: B replayed its lag, won test-and-set and went live within the failure timeout plus that replay.' },
    ],
  },
  {
    name: 'log-buffer-full',
    title: 'A full log buffer stops the primary',
    question: 'What if the log fills up faster than the backup takes it?',
    phases: [{ settings: { backupSpeedPct: 5, logBufferKiB: 1 }, script: '' }],
    steps: [
      { phase: 0, atUs: ms(50), text: 'A backup at 5 % speed and a 1 KiB log buffer: every packet is logged with its bytes.' },
      { phase: 0, atUs: ms(600), text: 'The buffer fills: A stops executing until B drains it (A\'s state: blocked; the log-queue gauge full). Flow control slows the primary to the backup\'s pace rather than let the backup fall behind without bound.' },
    ],
  },
  {
    name: 'vmotion',
    title: 'FT VMotion: restoring redundancy',
    question: 'After a failover there is no backup. How does a new one start?',
    phases: [{ settings: {}, script: 'kill primary at 300ms; vmotion at 800ms; kill B at 1500ms' }],
    steps: [
      { phase: 0, atUs: ms(700), text: 'A failed; B went live. One more failure and the service is gone.' },
      { phase: 0, atUs: ms(801), text: 'FT VMotion: B pauses briefly, sends a snapshot of its whole machine over a new logging channel to a new worker, C, and both go on from that icount. The test-and-set flag is cleared for the new pair.' },
      { phase: 0, atUs: ms(1400), text: 'C is a backup, in sync (its hash checks pass).' },
      { phase: 0, atUs: ms(2200), text: 'A second failure (B killed): C goes live. The clients saw one service throughout.' },
    ],
  },
  {
    name: 'what-is-a-hypervisor',
    title: 'What the hypervisor does',
    question: 'What is a hypervisor, and where does it step in? (FAQ 2)',
    phases: [{ settings: { guest: 'ticker' }, script: '' }],
    steps: [
      { phase: 0, atUs: ms(5), text: 'The guest is an ordinary RISC-V program, compiled by gcc. It runs directly on the emulated CPU — except where it touches something outside the machine.' },
      { phase: 0, atUs: ms(50), text: 'Every timer interrupt, every read of the clock or the RNG, every device register access traps to the hypervisor, which decides what the guest sees and logs it. Hover the log batches in the timeline: timer, nondet, progress and hash entries.' },
      { phase: 0, atUs: ms(300), text: 'Everything else — almost every instruction — runs without the hypervisor: compare the instruction counters with the number of log entries.' },
    ],
  },
  {
    name: 'gfs-vs-ft',
    title: 'Machine-level against application-level replication',
    question: 'How does this differ from replicating at the application level, as GFS does? (FAQ 3)',
    phases: [{ settings: {}, script: '' }],
    steps: [
      { phase: 0, atUs: ms(1000), text: 'FT replicates the whole machine: what crosses the logging channel is every nondeterministic event — packets in full, interrupts, disk completions — not the application\'s operations. Compare the logging bandwidth chart with the few bytes of each increment.' },
      { phase: 0, atUs: ms(2000), text: 'The price of running any program unmodified: more bytes and a lock-step copy of every instruction. An application-level scheme (GFS, Raft-based stores) sends only the operations, but each application must be written for it.' },
    ],
  },
  {
    name: 'security',
    title: 'The logging channel trusts its peer',
    question: 'Could someone attack the logging channel? (FAQ 11)',
    phases: [{ settings: { guest: 'ticker', switches: { logNondet: false } }, script: '' }],
    steps: [
      { phase: 0, atUs: ms(5), text: 'The backup believes whatever arrives on the logging channel: it has no way to check an entry against what the primary really executed. Here B\'s values for clock and RNG reads do not come from A — as if someone had forged those entries.' },
      { phase: 0, atUs: ms(300), text: 'B computed on values A never saw: the hash check shows the divergence. It detects, it does not prevent: the channel must be a trusted, private link.' },
    ],
  },
  {
    name: 'beyond-fail-stop',
    title: 'Failures that are not fail-stop',
    question: 'What if the primary does not stop but computes wrongly? (FAQ 12)',
    phases: [{ settings: {}, script: 'flip primary 0x80f00000 at 300ms' }],
    steps: [
      { phase: 0, atUs: ms(299), text: 'FT assumes fail-stop: a host either runs correctly or stops. The pair is in sync.' },
      { phase: 0, atUs: ms(300.01), text: 'A cosmic ray: one bit of A\'s memory flips. A does not stop — it runs on, serving clients. Nothing is logged: the hypervisor never saw it happen, and B does not share it.' },
      { phase: 0, atUs: ms(400), text: 'The next hash entry exposes it: B\'s state differs from A\'s at the same instruction (diverged). But which one is right? With two replicas FT cannot vote; it can only notice. Fail-stop is an assumption, and this failure breaks it.' },
    ],
  },
];

export function scenarioByName(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
