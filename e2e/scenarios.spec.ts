/**
 * The lecture scenarios in the browser, on the real workers: every scenario opens by URL, steps to
 * its end and back to its start with no page error; the key claims show in the UI; the same URL
 * gives the same state on two loads. A screenshot per scenario goes to test-results/scenarios/.
 */
import { expect, test, type Page } from '@playwright/test';
import { SCENARIOS } from '../src/ui/scenarios';
import type { DebugSnapshot } from '../src/ui/store';

const snapshot = (page: Page): Promise<DebugSnapshot> => page.evaluate(() => window.ftDebug.snapshot());

async function settled(page: Page, k: number, n: number): Promise<void> {
  await expect(page.getByTestId('scenario-step')).toHaveText(`${k} / ${n}`);
  await expect(page.getByTestId('scenario')).toHaveAttribute('data-busy', 'false', { timeout: 60_000 });
}

async function open(page: Page, name: string, seed: number): Promise<string[]> {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto(`/?scenario=${name}&seed=${seed}`);
  await expect(page.getByTestId('scenario-narration')).not.toBeEmpty();
  return errors;
}

/** Waits until the store shows what the run reached (the digest follows a few times a second). */
async function verdict(page: Page, kind: string): Promise<void> {
  await page.evaluate(() => window.ftDebug.check());
  await expect(page.getByTestId('checker-verdict')).toHaveAttribute('data-verdict', kind, { timeout: 20_000 });
}

for (const sc of SCENARIOS) {
  test(`scenario ${sc.name}: to the end and back, no page error`, async ({ page }) => {
    test.setTimeout(180_000);
    const errors = await open(page, sc.name, 1);
    const n = sc.steps.length;
    await settled(page, 1, n);
    await expect(page.getByTestId('scenario-prev')).toBeDisabled();
    for (let k = 2; k <= n; k++) {
      await page.getByTestId('scenario-next').click();
      await settled(page, k, n);
      await expect(page.getByTestId('scenario-narration')).toHaveText(sc.steps[k - 1].text);
    }
    await expect(page.getByTestId('scenario-next')).toBeDisabled();
    await page.screenshot({ path: `test-results/scenarios/${sc.name}.png` });
    for (let k = n - 1; k >= 1; k--) {
      await page.getByTestId('scenario-prev').click();
      await settled(page, k, n);
    }
    await expect(page.getByTestId('scenario-prev')).toBeDisabled();
    const s = await snapshot(page);
    expect(s.nowUs, 'back at the first step\'s time').toBeLessThanOrEqual(sc.steps[0].atUs + 1);
    expect(errors).toEqual([]);
  });
}

test('output-rule: 11 and 12 with the rule at each point; 11 twice without it, and the verdict says so', async ({ page }) => {
  test.setTimeout(180_000);
  const errors = await open(page, 'output-rule', 5);
  const n = SCENARIOS.find((s) => s.name === 'output-rule')!.steps.length;
  await settled(page, 1, n);
  const results = async (): Promise<number[]> => (await snapshot(page)).history.filter((h) => !h.duplicate).map((h) => h.result);
  await expect.poll(results).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  for (let k = 2; k <= 6; k++) {
    await page.getByTestId('scenario-next').click();
    await settled(page, k, n);
  }
  await expect.poll(results).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  await verdict(page, 'ok');
  await page.getByTestId('scenario-next').click();
  await page.getByTestId('scenario-next').click();
  await settled(page, 8, n);
  await expect.poll(results).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 11]);
  await verdict(page, 'violation');
  await expect(page.getByTestId('switch-outputRule')).not.toBeChecked();
  expect(errors).toEqual([]);
});

test('split-brain: one server with test-and-set, two without', async ({ page }) => {
  test.setTimeout(120_000);
  const errors = await open(page, 'split-brain', 3);
  const n = 5;
  const roles = async (): Promise<string> => (await snapshot(page)).vms.map((v) => v.role).sort().join(' ');
  await settled(page, 1, n);
  await page.getByTestId('scenario-next').click();
  await page.getByTestId('scenario-next').click();
  await settled(page, 3, n);
  await expect.poll(roles).toBe('halted live');
  await page.getByTestId('scenario-next').click();
  await settled(page, 4, n);
  await expect.poll(roles).toBe('live live');
  await expect(page.locator('[data-testid="vm-card"][data-role="live"]')).toHaveCount(2);
  expect(errors).toEqual([]);
});

test('the same URL gives the same state on two loads', async ({ page }) => {
  test.setTimeout(120_000);
  const state = async (): Promise<string> => {
    await open(page, 'vmotion', 9);
    await settled(page, 1, 4);
    await page.getByTestId('scenario-next').click();
    await page.getByTestId('scenario-next').click();
    await settled(page, 3, 4);
    await page.waitForTimeout(400); // the digest's next publish
    const s = await snapshot(page);
    return JSON.stringify({ now: s.nowUs, vms: s.vms.map((v) => [v.name, v.role, v.icount]), history: s.history.map((h) => [h.client, h.seq, h.result, h.fromVm]) });
  };
  const first = await state();
  const second = await state();
  expect(JSON.parse(first).history.length).toBeGreaterThan(50);
  expect(second).toBe(first);
});

test('the scenario list has one line per scenario, and an unknown name leads to it', async ({ page }) => {
  await page.goto('/?scenarios');
  await expect(page.getByTestId('scenario-list').locator('li')).toHaveCount(SCENARIOS.length);
  await page.goto('/?scenario=no-such-thing');
  await expect(page.getByTestId('scenario-list')).toBeVisible();
  await expect(page.getByTestId('error')).toContainText('no scenario "no-such-thing"');
});
