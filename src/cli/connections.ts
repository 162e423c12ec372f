import { loadConfig, type Config, type Env } from '../lib/config';
import { readLocalHostFile } from '../local/local-host-file';

export interface ResolvedConfig {
  config: Config;
  /** Which stores the command works on, for its first line of output. */
  source: string;
}

const STORE_SETTINGS = ['AzureWebJobsStorage', 'COSMOS_CONNECTION'] as const;
const configured = (env: Env, name: string) => Object.keys(env).some((key) => (key === name || key.startsWith(`${name}__`)) && env[key]?.trim());

/**
 * The stores an operator command (sweep, backup, restore, export, ...) works on: the app settings in the environment,
 * exactly as the app reads them (connection strings, or identity-based `__accountName` / `__accountEndpoint` with
 * `az login` credentials); else the local host running on `localPort` (it publishes its embedded emulators'
 * connections when it starts, src/local/local-host-file.ts). Never a mix of the two.
 */
export function resolveConfig(env: Env, localPort: number): ResolvedConfig {
  const set = STORE_SETTINGS.filter((name) => configured(env, name));
  if (set.length === STORE_SETTINGS.length) return { config: loadConfig(env), source: 'the configured AzureWebJobsStorage and COSMOS_CONNECTION' };
  if (set.length) throw new Error(`Set both AzureWebJobsStorage and COSMOS_CONNECTION (only ${set[0]} is set), or neither to use a running local host.`);
  const local = readLocalHostFile(localPort);
  if (!local) throw new Error(`No stores configured and no local host running on port ${localPort}: set AzureWebJobsStorage and COSMOS_CONNECTION, or start one with npm start (--local-port picks another port).`);
  return { config: loadConfig({ ...env, ...local.settings }), source: `the local host at ${local.apiUrl} (pid ${local.pid})` };
}
