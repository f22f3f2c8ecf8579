// Headless Chromium (Debian's `chromium` package) for the HTML report tests: where it is, the skip reason
// where it is not, and one launch with the flags that keep it offline and quiet.
import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';

export const CHROMIUM = process.env.LLAVAGUARD_CHROMIUM ?? '/usr/bin/chromium';

/** false when Chromium is there; else why the test is skipped. */
export const noChromium: false | string = existsSync(CHROMIUM)
    ? false
    : `no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set LLAVAGUARD_CHROMIUM)`;

export async function launchChromium(): Promise<Browser> {
    const { chromium } = await import('playwright-core');
    return chromium.launch({
        executablePath: CHROMIUM,
        args: [
            '--headless',
            '--no-sandbox',
            '--disable-gpu',
            '--disable-quic',
            '--no-first-run',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
        ],
    });
}
