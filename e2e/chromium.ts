/**
 * How every headless Chromium of this project is launched (e2e, screenshots, browser bench):
 * Debian's /usr/bin/chromium (never a downloaded browser) with the flags of docs/ENVIRONMENT.md "Browser".
 */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--enable-unsafe-webgpu',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
