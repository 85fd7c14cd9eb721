/** Config and environment errors as a test reads them. */
import { expect } from 'vitest';
import { ConfigError, loadSettings } from '../../src/config/load.ts';

/**
 * The lines of the ConfigError that `loadSettings(env)` throws (one per
 * problem, naming the field); fails the test when it throws anything else or nothing.
 */
export function configErrors(env: Record<string, string>): string[] {
  try {
    loadSettings(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).lines;
  }
  throw new Error('expected a ConfigError');
}
