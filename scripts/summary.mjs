// Prints "N passed, N failed" from the test reports of this run (vitest JSON, pytest JUnit XML,
// Playwright JSON). Usage: node scripts/summary.mjs <results-dir> <exit-status>
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const [dir = 'test-results', statusArg = '0'] = process.argv.slice(2);
let passed = 0;
let failed = 0;
const parts = [];

function read(name) {
  const file = path.join(dir, name);
  return existsSync(file) ? readFileSync(file, 'utf8') : null;
}

try {
  const v = read('vitest.json');
  if (v) {
    const j = JSON.parse(v);
    passed += j.numPassedTests ?? 0;
    failed += (j.numFailedTests ?? 0) + (j.numFailedTestSuites && !j.numFailedTests ? 1 : 0);
    parts.push(`vitest ${j.numPassedTests}/${j.numTotalTests}`);
  }
} catch (e) {
  console.error(`could not read vitest.json: ${e.message}`);
  failed += 1;
}

try {
  const x = read('pytest.xml');
  if (x) {
    let t = 0;
    let f = 0;
    let s = 0;
    const tag = x.match(/<testsuite\b[^>]*>/);
    if (tag) {
      const attr = (n) => Number((tag[0].match(new RegExp(`\\b${n}="(\\d+)"`)) ?? [])[1] ?? 0);
      t = attr('tests');
      f = attr('failures') + attr('errors');
      s = attr('skipped');
    }
    passed += t - f - s;
    failed += f;
    parts.push(`pytest ${t - f - s}/${t}`);
  }
} catch (e) {
  console.error(`could not read pytest.xml: ${e.message}`);
  failed += 1;
}

try {
  const p = read('playwright.json');
  if (p) {
    const st = JSON.parse(p).stats ?? {};
    passed += (st.expected ?? 0) + (st.flaky ?? 0);
    failed += st.unexpected ?? 0;
    parts.push(`playwright ${(st.expected ?? 0) + (st.flaky ?? 0)}/${(st.expected ?? 0) + (st.flaky ?? 0) + (st.unexpected ?? 0)}`);
  }
} catch (e) {
  console.error(`could not read playwright.json: ${e.message}`);
  failed += 1;
}

if (Number(statusArg) !== 0 && failed === 0) failed = 1;
if (parts.length) console.log(`(${parts.join(', ')})`);
console.log(`${passed} passed, ${failed} failed`);
