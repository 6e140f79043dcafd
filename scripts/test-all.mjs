// `npm test`: typecheck, lint, unit tests (vitest), end-to-end tests (Playwright in headless
// Chromium). Every step runs even when an earlier one fails, each prints its own summary, and the
// last line is the total over all runners: `N passed, N failed` (typecheck and lint count as one
// check each). Exits non-zero when anything failed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const tmp = mkdtempSync(join(tmpdir(), 'ft-test-'));
const totals = { passed: 0, failed: 0, skipped: 0 };
const lines = [];

function run(cmd, args, env = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  return r.status ?? 1;
}

function check(name, cmd, args) {
  console.log(`\n=== ${name}`);
  const ok = run(cmd, args) === 0;
  if (ok) totals.passed++;
  else totals.failed++;
  lines.push(`${name}: ${ok ? 'passed' : 'FAILED'}`);
}

function vitest() {
  console.log('\n=== unit tests (vitest)');
  const out = join(tmp, 'vitest.json');
  const status = run('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${out}`]);
  if (!existsSync(out)) {
    totals.failed++;
    lines.push('unit tests: runner did not report (counted as 1 failure)');
    return;
  }
  const r = JSON.parse(readFileSync(out, 'utf8'));
  const failed = r.numFailedTests + (status !== 0 && r.numFailedTests === 0 ? 1 : 0);
  totals.passed += r.numPassedTests;
  totals.failed += failed;
  totals.skipped += r.numPendingTests + r.numTodoTests;
  lines.push(`unit tests: ${r.numPassedTests} passed, ${failed} failed (${r.numTotalTestSuites} suites)`);
}

function e2e() {
  console.log('\n=== end-to-end tests (Playwright, headless Chromium)');
  const out = join(tmp, 'playwright.json');
  const status = run('node', ['scripts/e2e.mjs'], { FT_PW_JSON: out });
  if (!existsSync(out)) {
    totals.failed++;
    lines.push('e2e tests: runner did not report (counted as 1 failure)');
    return;
  }
  const s = JSON.parse(readFileSync(out, 'utf8')).stats;
  const failed = s.unexpected + s.flaky + (status !== 0 && s.unexpected === 0 ? 1 : 0);
  totals.passed += s.expected;
  totals.failed += failed;
  totals.skipped += s.skipped;
  lines.push(`e2e tests: ${s.expected} passed, ${failed} failed`);
}

check('typecheck (tsc)', 'npx', ['tsc', '-p', 'tsconfig.json', '--noEmit']);
check('lint (eslint)', 'npx', ['eslint', '.', '--max-warnings=0']);
vitest();
e2e();

console.log('\n=== summary');
for (const l of lines) console.log(l);
const skipped = totals.skipped ? `, ${totals.skipped} skipped` : '';
console.log(`${totals.passed} passed, ${totals.failed} failed${skipped}`);
process.exit(totals.failed === 0 ? 0 : 1);
