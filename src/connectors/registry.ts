/** Builds the configured connectors. */
import type { Logger } from 'pino';
import type { ConnectorConfig } from '../config/schema.ts';
import type { DirectoryStore } from '../store/directory.ts';
import type { Connector } from './connector.ts';
import { DirectoryConnector } from './directory.ts';

export interface ConnectorDeps {
  directory: DirectoryStore;
  now: () => Date;
  env: NodeJS.ProcessEnv;
  log: Logger;
}

export function createConnectors(configs: readonly ConnectorConfig[], deps: ConnectorDeps): Connector[] {
  return configs.map((cfg): Connector => {
    if (cfg.type === 'directory') return new DirectoryConnector(deps.directory, deps.now, cfg.name);
    throw new Error(`connectors.${cfg.name}: the ${cfg.type} connector is not available in this build`);
  });
}
