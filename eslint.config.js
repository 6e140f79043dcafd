// ESLint flat config. Two project rules live here:
//  1. Determinism: nothing under src/machine, src/ft, src/world or src/sim may read a clock, draw
//     randomness, schedule itself or post a message. Time and randomness are injected there; this
//     is what keeps the simulator deterministic (docs/design.md §1, STYLE.md habit 1).
//  2. Layering: imports point one way, ui → runtime → sim → (ft, world) → machine: sim uses ft,
//     world and machine, never runtime or ui; the runtime's lockstep conductor and cluster nodes
//     are the simulator's own (src/sim/conductor.ts, node.ts), so a browser run is a simulator run
//     (docs/design.md §2).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

const DETERMINISTIC = ['src/machine/**', 'src/ft/**', 'src/world/**', 'src/sim/**'];

const forbiddenGlobals = [
  { name: 'Date', message: 'Deterministic code: time is injected, never read from Date.' },
  { name: 'performance', message: 'Deterministic code: time is injected, never read from performance.' },
  { name: 'setTimeout', message: 'Deterministic code: the host drives the loop; nothing schedules itself.' },
  { name: 'setInterval', message: 'Deterministic code: the host drives the loop; nothing schedules itself.' },
  { name: 'postMessage', message: 'Deterministic code: messages are returned as data; src/runtime posts them.' },
  { name: 'self', message: 'Deterministic code: no worker globals; src/runtime owns the worker.' },
  { name: 'window', message: 'Deterministic code: no DOM globals.' },
  { name: 'globalThis', message: 'Deterministic code: no reaching around the rules through globalThis.' },
];

const forbiddenSyntax = [
  { selector: "MemberExpression[object.name='Math'][property.name='random']", message: 'Deterministic code: randomness is a seeded PRNG passed in, never Math.random.' },
  { selector: "MemberExpression[property.name='postMessage']", message: 'Deterministic code: messages are returned as data; src/runtime posts them.' },
  { selector: "NewExpression[callee.name='Date']", message: 'Deterministic code: time is injected, never read from Date.' },
];

/** `zone: files in `from` may not be imported by files in `target`. */
function layer(target, forbidden, ignores = []) {
  return {
    files: [`src/${target}/**`],
    ignores,
    rules: {
      'no-restricted-imports': ['error', {
        patterns: forbidden.map((dir) => ({
          group: [`**/${dir}/*`, `**/${dir}`],
          message: `src/${target} may not import from src/${dir} (docs/design.md §2: ui → runtime → sim → (ft, world) → machine; sim never uses runtime or ui).`,
        })),
      }],
    },
  };
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'public/**', 'playwright-report/**', 'test-results/**', 'guests/**', 'lint-fixtures/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    files: ['src/ui/**/*.tsx', 'src/ui/**/*.ts'],
    plugins: { 'react-hooks': reactHooks },
    rules: { 'react-hooks/rules-of-hooks': 'error', 'react-hooks/exhaustive-deps': 'warn' },
  },
  layer('machine', ['ft', 'world', 'sim', 'runtime', 'ui', 'cli'], ['src/machine/guests.test.ts', 'src/machine/translate.test.ts']),
  // The guest-program tests speak the guests' service protocol (src/world/wire.ts) to the machine:
  // a test-only edge, so the protocol has one definition.
  { ...layer('machine', ['ft', 'sim', 'runtime', 'ui', 'cli']), files: ['src/machine/guests.test.ts', 'src/machine/translate.test.ts'] },
  layer('ft', ['world', 'sim', 'runtime', 'ui', 'cli']),
  layer('world', ['ft', 'sim', 'runtime', 'ui', 'cli']),
  layer('sim', ['runtime', 'ui', 'cli']),
  layer('runtime', ['ui', 'cli']),
  {
    files: DETERMINISTIC,
    rules: {
      'no-restricted-globals': ['error', ...forbiddenGlobals],
      'no-restricted-syntax': ['error', ...forbiddenSyntax],
    },
  },
);
