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
const totals = { tests: 0, failures: 0, errors: 0, skipped: 0 };
for (const [tag] of xml.matchAll(/<testsuite\s[^>]*>/g)) {
  for (const key of Object.keys(totals)) {
    const match = new RegExp(`\\s${key}="(\\d+)"`).exec(tag);
    totals[key] += match ? Number(match[1]) : 0;
  }
}
const failed = totals.failures + totals.errors;
const passed = totals.tests - failed - totals.skipped;
if (totals.skipped > 0) {
  console.log(`jest skipped: ${totals.skipped}`);
}
console.log(`jest: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 || totals.tests === 0 ? 1 : 0);
