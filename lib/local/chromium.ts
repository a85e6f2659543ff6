/**
 * Headless Chromium for the event browser's tests and screenshots: Debian's own package driven
 * by playwright-core, which downloads no browser (a download cannot work here, nor in CI).
 * The flags keep Chromium from calling Google's services, which a closed network refuses.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { LocalStackError } from './local-stack';

export const CHROMIUM_INSTALL =
  'apt-get update && apt-get install -y --no-install-recommends chromium fonts-liberation';

const FLAGS = [
  '--no-sandbox', // root in a container: the sandbox cannot start
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Where Chromium is: CHROMIUM_PATH, else Debian's /usr/bin/chromium. */
export function chromiumPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.CHROMIUM_PATH?.trim() || '/usr/bin/chromium';
}

/** The path of Chromium, or a LocalStackError whose one line says how to install it. */
export function assertChromium(env: NodeJS.ProcessEnv = process.env): string {
  const path = chromiumPath(env);
  if (!existsSync(path)) {
    throw new LocalStackError(
      `Chromium was not found at ${path}: install it with \`${CHROMIUM_INSTALL}\` (as root), or set CHROMIUM_PATH to a Chromium or Chrome binary.`,
    );
  }
  return path;
}

/** A headless Chromium with a fresh, temporary profile (playwright removes it on close). */
export async function launchChromium(env: NodeJS.ProcessEnv = process.env): Promise<Browser> {
  return chromium.launch({ executablePath: assertChromium(env), headless: true, args: FLAGS });
}
