/** Numbers as the panels print them: units last, few digits, readable from the back of a hall. */
export const ms = (us: number): string => `${(us / 1000).toFixed(us < 10_000 ? 2 : us < 100_000 ? 1 : 0)} ms`;
export const bytes = (n: number): string => (n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1048576).toFixed(1)} MiB`);
export const hex = (n: number): string => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
export const pct = (f: number): string => `${Math.round(f * 100)}%`;
export const seconds = (us: number): string => `${(us / 1e6).toFixed(3)} s`;
