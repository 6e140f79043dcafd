import { readFileSync } from 'node:fs';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint({ cwd: process.cwd() });
const fixture = (name: string) => readFileSync(`lint-fixtures/${name}`, 'utf8');

async function lintAs(code: string, filePath: string) {
  const [result] = await eslint.lintText(code, { filePath });
  return result.messages;
}

const ruleIds = (msgs: { ruleId: string | null }[]) => msgs.map((m) => m.ruleId);

describe('determinism lint rule', () => {
  for (const dir of ['machine', 'ft', 'world', 'sim']) {
    it(`rejects clocks, randomness, timers and messaging under src/${dir}`, async () => {
      const msgs = await lintAs(fixture('nondeterministic.ts'), `src/${dir}/fixture.ts`);
      const determinism = msgs.filter((m) => /Deterministic code/.test(m.message));
      // Date.now, performance, Math.random, setTimeout, setInterval, port.postMessage, new Date, self, window
      expect(determinism.length, JSON.stringify(msgs, null, 1)).toBeGreaterThanOrEqual(9);
      const lines = new Set(determinism.map((m) => m.line));
      for (let line = 4; line <= 12; line++) expect(lines.has(line), `line ${line} not flagged`).toBe(true);
    });
  }

  it('leaves the UI and runtime free to use clocks and messages', async () => {
    for (const dir of ['ui', 'runtime', 'cli']) {
      const msgs = await lintAs(fixture('nondeterministic.ts'), `src/${dir}/fixture.ts`);
      expect(msgs.filter((m) => /Deterministic code/.test(m.message))).toEqual([]);
    }
  });
});

describe('layering lint rule', () => {
  it('rejects src/machine importing upward', async () => {
    const msgs = await lintAs(fixture('layering.ts'), 'src/machine/fixture.ts');
    expect(ruleIds(msgs).filter((r) => r === 'no-restricted-imports')).toHaveLength(2);
  });

  it('rejects src/sim importing src/runtime and src/ft importing src/world', async () => {
    const sim = await lintAs("import { x } from '../runtime/worker';\nexport const y = x;\n", 'src/sim/fixture.ts');
    expect(ruleIds(sim)).toContain('no-restricted-imports');
    const ft = await lintAs("import { x } from '../world/world';\nexport const y = x;\n", 'src/ft/fixture.ts');
    expect(ruleIds(ft)).toContain('no-restricted-imports');
  });

  it('allows the direction the design gives', async () => {
    const ok = await lintAs("import { x } from '../machine/memory';\nexport const y = x;\n", 'src/ft/fixture.ts');
    expect(ruleIds(ok)).not.toContain('no-restricted-imports');
    const sim = await lintAs("import { x } from '../ft/primary';\nexport const y = x;\n", 'src/sim/fixture.ts');
    expect(ruleIds(sim)).not.toContain('no-restricted-imports');
  });
});
