/**
 * Builds the configured connectors. Secrets come only from the environment
 * variables the config names; a missing or malformed one stops start-up with
 * a line naming the field, and the secret itself is never logged.
 */
import type { Logger } from 'pino';
import { ConfigError } from '../config/load.ts';
import type { ConnectorConfig } from '../config/schema.ts';
import type { DirectoryStore } from '../store/directory.ts';
import type { DirectoryRevoke } from '../store/directoryRevoke.ts';
import type { Connector } from './connector.ts';
import { DirectoryConnector } from './directory.ts';
import { LdapConnector } from './ldap.ts';
import { userFilterProblem } from './ldapFilter.ts';
import { ScimConnector } from './scim.ts';
import { WebhookConnector } from './webhook.ts';

export interface ConnectorDeps {
  directory: DirectoryStore;
  /** The built-in directory's one-write revoke; without it the step-by-step path runs. */
  directoryRevoke?: DirectoryRevoke | undefined;
  now: () => Date;
  env: NodeJS.ProcessEnv;
  log: Logger;
}

const WHSEC = /^whsec_[A-Za-z0-9+/=]+$/;

export function createConnectors(configs: readonly ConnectorConfig[], deps: ConnectorDeps): Connector[] {
  const problems: string[] = [];
  const secret = (
    index: number,
    field: string,
    variable: string,
    check?: (v: string) => string | undefined,
  ) => {
    const value = deps.env[variable];
    if (!value) {
      problems.push(`connectors.${index}.${field}: environment variable ${variable} is not set`);
      return '';
    }
    const why = check?.(value);
    if (why) problems.push(`connectors.${index}.${field}: ${variable} ${why}`);
    return value;
  };
  const built = configs.map((cfg, i): Connector | undefined => {
    switch (cfg.type) {
      case 'directory':
        return new DirectoryConnector(deps.directory, deps.now, cfg.name, deps.directoryRevoke);
      case 'scim': {
        const token = secret(i, 'tokenEnv', cfg.tokenEnv);
        return token ? new ScimConnector(cfg, { token, log: deps.log }) : undefined;
      }
      case 'webhook': {
        const value = secret(i, 'secretEnv', cfg.secretEnv, (v) =>
          WHSEC.test(v) ? undefined : 'is not a Standard Webhooks secret (whsec_ followed by base64)',
        );
        return value && WHSEC.test(value) ? new WebhookConnector(cfg, { secret: value }) : undefined;
      }
      case 'ldap': {
        const why = userFilterProblem(cfg.userFilter);
        if (why) problems.push(`connectors.${i}.userFilter: ${why}`);
        const password = secret(i, 'passwordEnv', cfg.passwordEnv);
        return password && !why ? new LdapConnector(cfg, { password, log: deps.log }) : undefined;
      }
    }
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return built as Connector[];
}
