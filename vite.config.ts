import { readFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';
import { VitePWA } from 'vite-plugin-pwa';

/**
 * Offline: in the production build a Workbox service worker precaches the app shell (HTML, JS,
 * CSS, the tfjs wasm binaries) and the catalogue's default model folder, so the app loads and
 * samples with no network once it has been opened. The dev server registers no service worker.
 */
const catalogue = JSON.parse(readFileSync('public/models/index.json', 'utf8')) as {
  default: string;
  models: { id: string; path: string }[];
};
const defaultModel = catalogue.models.find((m) => m.id === catalogue.default);
if (!defaultModel) throw new Error(`public/models/index.json: no model "${catalogue.default}"`);
const modelDir = `models/${defaultModel.path.replace(/\/$/, '')}`;

export default defineConfig({
  plugins: [
    react(),
    VitePWA({
      registerType: 'autoUpdate',
      injectRegister: 'script-defer',
      manifest: false,
      devOptions: { enabled: false },
      workbox: {
        globPatterns: [
          '**/*.{html,js,css,wasm,svg,png,ico}',
          'models/index.json',
          `${modelDir}/**/*`,
        ],
        globIgnores: ['**/README.md'],
        // the default model (~10 MB in all) and the wasm binaries exceed Workbox's 2 MiB default
        maximumFileSizeToCacheInBytes: 32 * 1024 * 1024,
        navigateFallback: 'index.html',
        cleanupOutdatedCaches: true,
        // the first visit's page is controlled as soon as the cache is filled (no second load)
        clientsClaim: true,
        skipWaiting: true,
      },
    }),
  ],
  worker: { format: 'es' },
  server: { host: '127.0.0.1', port: 5173, strictPort: true },
  preview: { host: '127.0.0.1', port: 4173, strictPort: true },
  test: {
    include: ['src/**/*.test.{ts,tsx}'],
    environment: 'node',
    testTimeout: 60000,
  },
});
