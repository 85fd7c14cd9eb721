/**
 * A URL in the config that carries credentials (`https://user:password@…`) is
 * refused at start-up, naming the field and never echoing the value: fetch
 * refuses to send such a URL, and its error quotes the URL whole, password
 * included, into the logs, the ops run's result and the failed job the
 * dashboard shows. The roster and the alert webhook take a token or a secret
 * from the environment instead.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configErrors } from '../helpers/config.ts';

function configFile(config: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), 'lastday-urlcred-')), 'config.json');
  writeFileSync(path, JSON.stringify(config));
  return path;
}

describe('config URLs with credentials', () => {
  it('refuses a roster source and an alert webhook URL with user:password, without echoing them', () => {
    const lines = configErrors({
      LASTDAY_CONFIG: configFile({
        crons: {
          rosterSync: { enabled: true, source: 'https://hr-export:r0ster-pw@hr.corp.example/people.json' },
        },
        alerts: { webhookUrl: 'https://ops:al3rt-pw@alerts.corp.example/hook', secretEnv: 'ALERT_SECRET' },
      }),
    });
    expect(lines).toEqual([
      expect.stringMatching(/^crons\.rosterSync\.source: .*credentials.*tokenEnv/),
      expect.stringMatching(/^alerts\.webhookUrl: .*credentials/),
    ]);
    expect(lines.join('\n')).not.toMatch(/r0ster-pw|al3rt-pw|hr-export|ops:/);
  });

  it('accepts them without credentials, and a roster file path', () => {
    expect(() =>
      configErrors({
        LASTDAY_CONFIG: configFile({
          crons: { rosterSync: { enabled: true, source: '/srv/hr/people:2026.json' } },
          alerts: { webhookUrl: 'https://alerts.corp.example/hook', secretEnv: 'ALERT_SECRET' },
        }),
      }),
    ).toThrow(/expected a ConfigError/);
  });
});
