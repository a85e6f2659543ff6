/**
 * The browser tests' guard: without Chromium, one failing test whose one line says how to
 * install it (no stack trace), and the browser tests skipped rather than each failing the same way.
 */
import { assertChromium } from '../../lib/local/chromium';

export function chromiumTests(): { browserIt: jest.It; missingChromium: Error | undefined } {
  let missingChromium: Error | undefined;
  try {
    assertChromium();
  } catch (error) {
    missingChromium = error as Error;
    missingChromium.stack = missingChromium.message;
  }
  if (missingChromium) {
    const missing = missingChromium;
    it('finds Chromium', () => {
      throw missing;
    });
  }
  return { browserIt: missingChromium ? it.skip : it, missingChromium };
}
