/**
 * The lecture UI against real workers: what the audience sees and what the lecturer's buttons and
 * keys do. Each state is screenshotted into test-results/ui/.
 */
import { expect, test, type Page } from '@playwright/test';
import type { DebugSnapshot } from '../src/ui/store';

const shot = (page: Page, name: string): Promise<Buffer> => page.screenshot({ path: `test-results/ui/${name}.png` });
const snapshot = (page: Page): Promise<DebugSnapshot> => page.evaluate(() => window.ftDebug.snapshot());
const card = (page: Page, vm: string) => page.locator(`[data-testid="vm-card"][data-vm="${vm}"]`);

async function open(page: Page, query = ''): Promise<string[]> {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto(`/${query}`);
  await expect(card(page, 'A')).toHaveAttribute('data-role', 'primary', { timeout: 15_000 });
  await expect(card(page, 'B')).toHaveAttribute('data-role', 'backup');
  return errors;
}

const icountOf = async (page: Page, vm: string): Promise<number> => Number(await card(page, vm).getByTestId('icount').textContent());

/** The largest result the clients had acknowledged when this snapshot was taken. */
const maxResult = (s: DebugSnapshot): number => Math.max(0, ...s.history.filter((h) => !h.duplicate).map((h) => h.result));

test('load: the pair runs, the backup replays the primary\'s log, and the clients see a linearizable counter', async ({ page }) => {
  const errors = await open(page);
  const a0 = await icountOf(page, 'A');
  await expect.poll(() => icountOf(page, 'A'), { timeout: 10_000 }).toBeGreaterThan(a0 + 100_000);
  await expect.poll(() => icountOf(page, 'B')).toBeGreaterThan(a0);
  await expect(card(page, 'B').getByTestId('sync')).toHaveText('in-sync', { timeout: 10_000 });
  await expect(page.getByTestId('client-history').locator('li[data-result]').first()).toBeVisible();
  await expect(page.getByTestId('checker-verdict')).toHaveAttribute('data-verdict', 'ok', { timeout: 10_000 });
  for (const id of ['log-queue', 'lag', 'stalls']) await expect(card(page, 'A').getByTestId(id)).not.toBeEmpty();
  await expect(card(page, 'A').getByTestId('stalls')).toContainText('total');
  const s = await snapshot(page);
  expect(s.vms.map((v) => [v.name, v.role])).toEqual([['A', 'primary'], ['B', 'backup']]);
  expect(s.vms[0].insn, 'the instruction at the pc, disassembled').toMatch(/^[a-z]/);
  await shot(page, '01-running');
  expect(errors).toEqual([]);
});

test('kill the primary: the backup\'s card turns live within the timeout and no acknowledged increment is lost', async ({ page }) => {
  const errors = await open(page);
  await expect.poll(async () => (await snapshot(page)).history.length, { timeout: 10_000 }).toBeGreaterThan(20);
  const before = await snapshot(page);
  await page.getByTestId('kill-primary').click();
  await expect(card(page, 'A')).toHaveAttribute('data-role', 'crashed');
  await expect(card(page, 'B')).toHaveAttribute('data-role', 'live', { timeout: 10_000 });
  // The moments strip (and the history) follow a few times a second, the roles at once.
  await expect.poll(async () => (await snapshot(page)).digest.moments.some((m) => m.text.startsWith('B goes live'))).toBe(true);
  const live = await snapshot(page);
  // Virtual time from the kill to go-live: the failure timeout plus replay and a test-and-set round trip.
  const crashed = live.digest.moments.find((m) => m.text.startsWith('A is killed'));
  const wentLive = live.digest.moments.find((m) => m.text.startsWith('B goes live'));
  expect(crashed && wentLive).toBeTruthy();
  expect(wentLive!.tUs - crashed!.tUs).toBeLessThanOrEqual(live.settings.failureTimeoutMs * 1000 + 20_000);
  await expect.poll(async () => maxResult(await snapshot(page)), { timeout: 10_000 }).toBeGreaterThan(maxResult(before) + 20);
  await expect.poll(async () => (await snapshot(page)).history.filter((h) => !h.duplicate && h.fromVm === 'B').length).toBeGreaterThan(10);
  const after = await snapshot(page);
  const served = after.history.filter((h) => !h.duplicate && h.fromVm === 'B');
  // Every increment B answers is above every value the clients were given before the kill.
  expect(Math.min(...served.map((h) => h.result))).toBeGreaterThan(maxResult(before));
  await page.evaluate(() => window.ftDebug.check());
  await expect(page.getByTestId('checker-verdict')).toHaveAttribute('data-verdict', 'ok', { timeout: 10_000 });
  await shot(page, '02-failover');
  expect(errors).toEqual([]);
});

test('partition the logging channel: exactly one card serves and the other is halted; heal and a new backup: in sync', async ({ page }) => {
  const errors = await open(page);
  await page.getByTestId('partition-logging').click();
  await expect(page.getByTestId('logging-channel').first()).toHaveAttribute('data-cut', 'true');
  await expect.poll(async () => (await snapshot(page)).vms.map((v) => v.role).sort().join(' '), { timeout: 10_000 }).toBe('halted live');
  await shot(page, '03-partition');
  await page.getByTestId('heal').click();
  await page.getByTestId('new-backup').click();
  const c = card(page, 'C');
  await expect(c).toHaveAttribute('data-role', 'backup', { timeout: 10_000 });
  await expect(c.getByTestId('sync')).toHaveText('in-sync', { timeout: 10_000 });
  const roles = (await snapshot(page)).vms.map((v) => v.role);
  expect(roles.filter((r) => r === 'live' || r === 'primary')).toHaveLength(1);
  await shot(page, '04-new-backup');
  expect(errors).toEqual([]);
});

test('with the Output Rule off, a kill at the right moment loses an acknowledged increment and the verdict says so', async ({ page }) => {
  // The moment: the logging channel is cut just after replies left whose log entries are still in
  // flight (a 2 ms channel), and the primary dies. The same run with the rule on is linearizable.
  const script = encodeURIComponent('partition logging at 402ms; kill primary at 402ms');
  const broken = await open(page, `?channelDelayUs=2000&outputRule=0&script=${script}`);
  await expect(page.getByTestId('switch-outputRule')).not.toBeChecked();
  await expect(card(page, 'B')).toHaveAttribute('data-role', 'live', { timeout: 15_000 });
  await page.evaluate(() => window.ftDebug.check());
  const verdict = page.getByTestId('checker-verdict');
  await expect(verdict).toHaveAttribute('data-verdict', 'violation', { timeout: 15_000 });
  await expect(verdict).toContainText('NOT linearizable');
  await page.getByTestId('client-history').scrollIntoViewIfNeeded();
  await shot(page, '05-output-rule-off');
  expect(broken).toEqual([]);

  await page.goto(`/?channelDelayUs=2000&script=${script}`);
  await expect(card(page, 'B')).toHaveAttribute('data-role', 'live', { timeout: 15_000 });
  await expect.poll(async () => (await snapshot(page)).nowUs, { timeout: 10_000 }).toBeGreaterThan(1_000_000);
  await page.evaluate(() => window.ftDebug.check());
  await expect(verdict).toHaveAttribute('data-verdict', 'ok', { timeout: 15_000 });
});

test('a file that is not an ELF: a clear error, and the run goes on', async ({ page }) => {
  const errors = await open(page);
  const before = await icountOf(page, 'A');
  await page.getByTestId('elf-upload').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('these are my lecture notes, not a program') });
  const error = page.getByTestId('error');
  await expect(error).toContainText('notes.txt');
  await expect(error).toContainText(/not an ELF/i);
  await expect(error).toContainText('the current run goes on');
  await expect.poll(() => icountOf(page, 'A')).toBeGreaterThan(before);
  expect((await snapshot(page)).vms.map((v) => v.role)).toEqual(['primary', 'backup']);
  await shot(page, '06-bad-upload');
  expect(errors).toEqual([]);
});

test('a real ELF of one\'s own runs as a fresh pair', async ({ page }) => {
  const errors = await open(page);
  const ticker = await (await page.request.get('/guests/ticker.elf')).body();
  await page.getByTestId('elf-upload').setInputFiles({ name: 'my-ticker.elf', mimeType: 'application/octet-stream', buffer: ticker });
  await expect(page.getByTestId('guest')).toHaveValue('custom');
  await expect.poll(async () => (await snapshot(page)).guestLabel).toBe('my-ticker.elf');
  await expect.poll(() => icountOf(page, 'B'), { timeout: 10_000 }).toBeGreaterThan(1000);
  expect(errors).toEqual([]);
});

test('keys: space pauses and plays, K kills the primary, + and − change the pace, ? lists the keys', async ({ page }) => {
  const errors = await open(page);
  await page.keyboard.press('Space');
  await expect(page.getByTestId('dashboard')).toHaveAttribute('data-run-state', 'paused');
  const paused = await icountOf(page, 'A');
  await page.waitForTimeout(400);
  expect(await icountOf(page, 'A')).toBe(paused);
  await page.keyboard.press('Space');
  await expect(page.getByTestId('dashboard')).toHaveAttribute('data-run-state', 'running');
  await expect.poll(() => icountOf(page, 'A')).toBeGreaterThan(paused);
  await expect(page.getByTestId('pace')).toHaveText('1×');
  await page.keyboard.press('-');
  await expect(page.getByTestId('pace')).toHaveText('1/3×');
  await page.keyboard.press('+');
  await page.keyboard.press('+');
  await expect(page.getByTestId('pace')).toHaveText('3×');
  await page.keyboard.press('?');
  await expect(page.getByTestId('key-help')).toBeVisible();
  await shot(page, '07-keys');
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('key-help')).toBeHidden();
  await page.keyboard.press('k');
  await expect(card(page, 'A')).toHaveAttribute('data-role', 'crashed');
  await expect(card(page, 'B')).toHaveAttribute('data-role', 'live', { timeout: 10_000 });
  await page.keyboard.press('v');
  await expect(card(page, 'C')).toHaveAttribute('data-role', 'backup', { timeout: 10_000 });
  expect(errors).toEqual([]);
});

test('next entry (button and E): the run pauses at the next log batch the primary sends, each press a little further on', async ({ page }) => {
  const errors = await open(page);
  const clock = async (): Promise<number> => Number((await page.getByTestId('clock').textContent())?.replace(/[^0-9.]/g, ''));
  await page.getByTestId('step-entry').click();
  await expect(page.getByTestId('dashboard')).toHaveAttribute('data-run-state', 'paused');
  const t1 = await clock();
  const a1 = await icountOf(page, 'A');
  // Batches may come under a millisecond apart, and the clock shows whole milliseconds.
  for (let i = 0; i < 5; i++) await page.keyboard.press('e');
  await expect.poll(clock).toBeGreaterThan(t1);
  const t2 = await clock();
  expect(t2 - t1).toBeLessThan(1);
  for (let i = 0; i < 5; i++) await page.getByTestId('step-entry').click();
  await expect.poll(clock).toBeGreaterThan(t2);
  expect(await icountOf(page, 'A')).toBeGreaterThanOrEqual(a1);
  await expect(page.getByTestId('dashboard')).toHaveAttribute('data-run-state', 'paused');
  await shot(page, '08-next-entry');
  expect(errors).toEqual([]);
});

test('projector mode and the light theme', async ({ page }) => {
  const errors = await open(page);
  await page.getByTestId('projector').click();
  await page.getByTestId('theme').click();
  await expect(page.locator('html')).toHaveAttribute('data-projector', 'on');
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
  await page.waitForTimeout(500);
  await shot(page, '08-projector-light');
  await page.setViewportSize({ width: 1024, height: 768 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow, 'usable at 1024 px: no sideways scrolling').toBeLessThanOrEqual(0);
  expect(errors).toEqual([]);
});

/** What "the same state" means here: the time, every VM's role and icount, the clients' operations. */
const stateOf = (s: DebugSnapshot): string => JSON.stringify({
  nowUs: s.nowUs, vms: s.vms.map((v) => [v.name, v.role, v.icount]), ops: s.history.slice(-50).map((h) => [h.client, h.seq, h.result, h.duplicate]),
});

async function pauseAndSettle(page: Page): Promise<DebugSnapshot> {
  await page.getByTestId('pause').click();
  await expect(page.getByTestId('dashboard')).toHaveAttribute('data-run-state', 'paused');
  await page.waitForTimeout(300);
  return snapshot(page);
}

test('time travel past a checkpoint: the panels come back to what they showed at that moment, and what came after is gone', async ({ page }) => {
  const errors = await open(page, '?seed=8');
  await expect.poll(async () => (await snapshot(page)).nowUs, { timeout: 15_000 }).toBeGreaterThan(1_400_000);
  const earlier = await pauseAndSettle(page);
  // (Not the icounts: a paused run's hosts may have run ahead of its time, lockstep's lookahead,
  // where a run brought to a time stops each host there.)
  const panels = (s: DebugSnapshot): string => JSON.stringify({
    nowUs: Math.round(s.nowUs), vms: s.vms.map((v) => [v.name, v.role]),
    ops: s.digest.ops, completed: s.digest.completed, consoles: s.digest.consoles, disk: s.digest.disk, cuts: s.digest.cuts,
  });
  expect(earlier.digest.completed).toBeGreaterThan(0);
  await page.getByTestId('pause').click();
  await expect.poll(async () => (await snapshot(page)).nowUs, { timeout: 10_000 }).toBeGreaterThan(earlier.nowUs + 400_000);
  await page.getByTestId('kill-primary').click();
  await expect(card(page, 'A')).toHaveAttribute('data-role', 'crashed');
  await page.getByTestId('partition-logging').click();
  await pauseAndSettle(page);
  // The verdict counts every operation so far (a check comes at most every second).
  const verdict = page.getByTestId('checker-verdict');
  const checkedOps = async (): Promise<number> => Number(/linearizable: (\d+) operations/.exec((await verdict.textContent()) ?? '')?.[1] ?? NaN);
  await page.waitForTimeout(2_500);
  const opsBefore = await checkedOps();
  expect(opsBefore).toBeGreaterThan(earlier.digest.completed);
  const scrubber = page.getByTestId('scrubber');
  await scrubber.fill(String(earlier.nowUs));
  await scrubber.dispatchEvent('keyup');
  await expect.poll(async () => Math.abs((await snapshot(page)).nowUs - earlier.nowUs), { timeout: 30_000 }).toBeLessThan(0.01);
  await page.waitForTimeout(300);
  const back = await snapshot(page);
  expect(panels(back)).toBe(panels(earlier));
  expect(back.digest.moments.filter((m) => m.tUs >= earlier.nowUs), 'the kill and the partition came after the moment').toEqual([]);
  expect(await page.evaluate(() => window.ftDebug.script())).toBe('');
  // The verdict is of the history as it stands there, not of the one that went on past it.
  await expect.poll(checkedOps, { timeout: 10_000 }).toBeLessThan(opsBefore);
  await expect(verdict).toHaveAttribute('data-verdict', 'ok');
  expect(await checkedOps()).toBeGreaterThanOrEqual(back.digest.completed);
  expect(errors).toEqual([]);
});

test('← goes back one second (time travel), paused there; twice, two seconds', async ({ page }) => {
  const errors = await open(page, '?seed=9');
  await expect.poll(async () => (await snapshot(page)).nowUs, { timeout: 20_000 }).toBeGreaterThan(3_300_000);
  const at = (await pauseAndSettle(page)).nowUs;
  await page.keyboard.press('ArrowLeft');
  await expect.poll(async () => Math.abs((await snapshot(page)).nowUs - (at - 1_000_000)), { timeout: 30_000 }).toBeLessThan(0.01);
  await page.keyboard.press('ArrowLeft');
  await expect.poll(async () => Math.abs((await snapshot(page)).nowUs - (at - 2_000_000)), { timeout: 30_000 }).toBeLessThan(0.01);
  await expect(page.getByTestId('dashboard')).toHaveAttribute('data-run-state', 'paused');
  // A held key repeats: presses while a travel is on its way are not queued up behind it.
  const once = Math.max(0, (await snapshot(page)).nowUs - 1_000_000);
  for (let i = 0; i < 6; i++) await page.keyboard.press('ArrowLeft');
  await expect.poll(async () => Math.abs((await snapshot(page)).nowUs - once), { timeout: 30_000 }).toBeLessThan(0.01);
  await page.waitForTimeout(2_000);
  expect(Math.abs((await snapshot(page)).nowUs - once)).toBeLessThan(0.01);
  // The scrubber said where it was going while it went, and says so no more.
  await expect(page.locator('label.scrubber')).toHaveAttribute('data-travelling', 'false');
  expect((await snapshot(page)).travellingTo).toBeNull();
  expect(errors).toEqual([]);
});

test('a run exported as a file and imported ends in the same state', async ({ page }) => {
  const errors = await open(page, '?seed=4');
  await expect.poll(async () => (await snapshot(page)).nowUs, { timeout: 10_000 }).toBeGreaterThan(200_000);
  await page.getByTestId('kill-primary').click();
  await expect(card(page, 'B')).toHaveAttribute('data-role', 'live', { timeout: 10_000 });
  await page.getByTestId('client-load').click();
  const before = await pauseAndSettle(page);
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-run').click()]);
  const text = await (await download.createReadStream()).toArray().then((chunks) => Buffer.concat(chunks).toString('utf8'));
  expect(JSON.parse(text)).toMatchObject({ format: 'ft-visualizer-run', load: true, nowUs: before.nowUs });
  expect(JSON.parse(text).script).toMatch(/^kill primary at \d+us; load off at \d+us$/);

  await page.goto('/?seed=77');
  await expect(card(page, 'A')).toHaveAttribute('data-role', 'primary', { timeout: 15_000 });
  await page.getByTestId('import-run').setInputFiles({ name: 'run.json', mimeType: 'application/json', buffer: Buffer.from(text) });
  await expect.poll(async () => (await snapshot(page)).nowUs, { timeout: 30_000 }).toBe(before.nowUs);
  await page.waitForTimeout(300);
  expect(stateOf(await snapshot(page))).toBe(stateOf(before));

  await page.getByTestId('import-run').setInputFiles({ name: 'notes.json', mimeType: 'application/json', buffer: Buffer.from('{"format":"other"}') });
  await expect(page.getByTestId('error').last()).toContainText('notes.json: not a run file');
  expect(errors).toEqual([]);
});

test('time travel: back to an earlier moment is that moment again, and the run forks from there', async ({ page }) => {
  const errors = await open(page, '?seed=6');
  await expect.poll(async () => (await snapshot(page)).nowUs, { timeout: 10_000 }).toBeGreaterThan(150_000);
  const earlier = await pauseAndSettle(page);
  await page.getByTestId('pause').click();
  await expect.poll(async () => (await snapshot(page)).nowUs, { timeout: 10_000 }).toBeGreaterThan(earlier.nowUs + 300_000);
  await page.getByTestId('kill-primary').click();
  await expect(card(page, 'A')).toHaveAttribute('data-role', 'crashed');
  await pauseAndSettle(page);
  const scrubber = page.getByTestId('scrubber');
  const travel = async (): Promise<DebugSnapshot> => {
    await scrubber.fill(String(earlier.nowUs));
    await scrubber.dispatchEvent('keyup');
    // The slider's value is a decimal string: the moment comes back to a few ns.
    await expect.poll(async () => Math.abs((await snapshot(page)).nowUs - earlier.nowUs), { timeout: 30_000 }).toBeLessThan(0.01);
    await page.waitForTimeout(300);
    return snapshot(page);
  };
  const first = await travel();
  await expect(card(page, 'A')).toHaveAttribute('data-role', 'primary');
  expect(first.vms.map((v) => v.role)).toEqual(['primary', 'backup']);
  expect(first.history.length).toBeGreaterThan(0);
  // Forked from there: play on, then back to the same moment — the same state again, exactly.
  await page.getByTestId('pause').click();
  await expect.poll(async () => (await snapshot(page)).nowUs, { timeout: 10_000 }).toBeGreaterThan(earlier.nowUs + 200_000);
  await pauseAndSettle(page);
  expect(stateOf(await travel())).toBe(stateOf(first));
  expect(await page.evaluate(() => window.ftDebug.script()), 'the kill was after the moment: the fork forgets it').toBe('');
  expect(errors).toEqual([]);
});
