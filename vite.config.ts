import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';

// One config for the app, the workers and the unit tests (vitest reads the `test` block).
export default defineConfig({
  plugins: [react()],
  worker: { format: 'es' },
  server: { host: '127.0.0.1', port: 5173 },
  preview: { host: '127.0.0.1', port: 4173, strictPort: true },
  build: {
    target: 'es2022',
    sourcemap: true,
    // The lecture app, and the runtime lab page the end-to-end tests and bench:browser drive.
    rollupOptions: { input: { main: 'index.html', lab: 'lab.html' } },
  },
  test: {
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx', 'bench/**/*.test.ts', 'scripts/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
  },
});
