#!/usr/bin/env node
// Prints `jest: N passed, N failed` (and `jest skipped: N` on the line before) from the
// jest-junit report, and exits 1 when the report is missing or counts no test at all.
// Usage: node scripts/jest-summary.js [test-reports/junit.xml]
'use strict';
const fs = require('fs');

const file = process.argv[2] || 'test-reports/junit.xml';
if (!fs.existsSync(file)) {
  console.log(`jest report ${file} is missing: jest did not run to the end`);
  console.log('jest: 0 passed, 1 failed');
  process.exit(1);
}

const xml = fs.readFileSync(file, 'utf8');
let passed = 0;
let failed = 0;
let skipped = 0;
const SUITE = /<testsuite\b([^>]*)>([\s\S]*?)<\/testsuite>/g;
const CASE = /<testcase\b[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g;
for (const [, head, body] of xml.matchAll(SUITE)) {
  // a suite that failed to load has no tests, one error and two made-up cases: count it once
  if (attribute(head, 'tests') === 0 && attribute(head, 'errors') > 0) {
    failed++;
    continue;
  }
  for (const [, , caseBody = ''] of body.matchAll(CASE)) {
    if (/<(failure|error)\b/.test(caseBody)) {
      failed++;
    } else if (/<skipped\b/.test(caseBody)) {
      skipped++;
    } else {
      passed++;
    }
  }
}
if (skipped > 0) {
  console.log(`jest skipped: ${skipped}`);
}
console.log(`jest: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed + failed === 0 ? 1 : 0);

function attribute(tag, name) {
  const match = new RegExp(`\\s${name}="(\\d+)"`).exec(tag);
  return match ? Number(match[1]) : 0;
}
