// Lint fixture: linted as if it lived under src/machine, src/ft, src/world or src/sim, every line
// below must be rejected by the determinism rule (scripts/lint-rules.test.ts checks it).
export function leaks(port: MessagePort): number {
  const a = Date.now();
  const b = performance.now();
  const c = Math.random();
  setTimeout(() => undefined, 1);
  setInterval(() => undefined, 1);
  port.postMessage('x');
  const d = new Date();
  self.close();
  window.alert('x');
  return a + b + c + d.getTime();
}
