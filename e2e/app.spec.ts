import { expect, test } from '@playwright/test';

test('the built app loads, shows its name and exposes ftDebug.snapshot()', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/');
  await expect(page).toHaveTitle(/FT Visualizer/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('FT Visualizer');
  await expect(page.getByTestId('dashboard')).toBeVisible();

  const snap = await page.evaluate(() => window.ftDebug.snapshot());
  expect(snap.appName).toBe('FT Visualizer');
  expect(snap.runState).toBe('idle');
  expect(Array.isArray(snap.vms)).toBe(true);
  // Plain JSON: survives a round trip unchanged.
  expect(JSON.parse(JSON.stringify(snap))).toEqual(snap);
  expect(errors).toEqual([]);
});
