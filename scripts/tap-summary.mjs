#!/usr/bin/env node
// Counts the named tests (the t.test() calls inside each test file) in tap's TAP output and prints
// "N passed, N failed". A test file that crashed without reporting its own failures counts as one failure.
import { readFileSync } from 'node:fs';

const lines = readFileSync(process.argv[2], 'utf8').split('\n');
let passed = 0;
let failed = 0;
let fileFailures = 0;
let skipped = 0;
for (const line of lines) {
    if (/^ {4}ok \d+ .*# (SKIP|TODO)/.test(line)) skipped++;
    else if (/^ {4}ok \d+ /.test(line)) passed++;
    else if (/^ {4}not ok \d+ /.test(line)) {
        failed++;
        fileFailures++;
    } else if (/^not ok \d+ /.test(line)) {
        if (fileFailures === 0) failed++;
        fileFailures = 0;
    } else if (/^ok \d+ /.test(line)) fileFailures = 0;
}
// Each --extra pass|fail: one more test run outside tap (lint, reference checks, the install test).
process.argv.forEach((arg, i) => {
    if (arg === '--extra') process.argv[i + 1] === 'pass' ? passed++ : failed++;
});
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
