/** Debian's Chromium driven by playwright-core (never `playwright install`: no downloads here). */
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { aptInstallCommand } from './codeServer';

/** $SYMPHONY_CHROMIUM, or Debian's chromium. */
export const chromiumPath = process.env.SYMPHONY_CHROMIUM ?? '/usr/bin/chromium';

/**
 * --no-sandbox: Chromium refuses to run as root with its sandbox. The networking flags
 * stop it from flooding a closed network with update, sync and QUIC traffic.
 */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/** Options for {@link launchChromium}. */
export interface LaunchOptions {
  headless?: boolean;
}

/** Launches Chromium, failing with the apt-get command when it is not installed. */
export async function launchChromium({ headless = true }: LaunchOptions = {}): Promise<Browser> {
  if (!existsSync(chromiumPath)) {
    throw new Error(`Chromium is not installed at ${chromiumPath}.\nInstall it with:\n\n    ${aptInstallCommand(['chromium'])}\n`);
  }
  return chromium.launch({ executablePath: chromiumPath, headless, args: CHROMIUM_ARGS });
}
