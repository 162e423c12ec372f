import { z } from 'zod';

/**
 * Every app setting the code reads, in one place: the README table, local.settings.sample.json and the
 * Bicep consistency test are all checked against this list.
 * `scope: 'azure'` settings are set by the Bicep; `scope: 'local'` ones only mean something to the local host.
 */
export const APP_SETTINGS = {
  AzureWebJobsStorage: { scope: 'azure', description: 'Storage for uploads, derivatives and the Functions host: a connection string, or identity-based via AzureWebJobsStorage__accountName / __blobServiceUri + __credential + __clientId. Unset locally: embedded Azurite.' },
  COSMOS_CONNECTION: { scope: 'azure', description: 'Cosmos DB: a connection string, or identity-based via COSMOS_CONNECTION__accountEndpoint + __credential + __clientId. Unset locally: embedded Cosmos stand-in.' },
  COSMOS_DATABASE: { scope: 'azure', description: 'Cosmos DB database name.', default: 'image-pipeline' },
  EVENTHUB_CONNECTION: { scope: 'azure', description: 'Event Hubs namespace for batch records: identity-based via EVENTHUB_CONNECTION__fullyQualifiedNamespace + __credential + __clientId, or a connection string.' },
  EVENTHUB_NAME: { scope: 'azure', description: 'Event hub (Kafka topic) carrying batch records.', default: 'image-batches' },
  EVENTHUB_CONSUMER_GROUP: { scope: 'azure', description: 'Consumer group of the batch ingest trigger.', default: '$Default' },
  IMAGE_ENGINE: { scope: 'azure', description: 'Image engine: sharp (fast, native) or jimp (pure JavaScript).', default: 'sharp' },
  MAX_UPLOAD_BYTES: { scope: 'azure', description: 'Largest accepted image, in bytes.', default: '26214400' },
  MAX_IMAGE_PIXELS: { scope: 'azure', description: 'Largest accepted image, in pixels (width x height), checked from the header before decoding.', default: '50000000' },
  BLOB_TRIGGER_SOURCE: { scope: 'azure', description: 'Blob trigger source: EventGrid (Azure, Flex Consumption) or LogsAndContainerScan (func start with Azurite).', default: 'EventGrid' },
  PORT: { scope: 'local', description: 'Local host HTTP port.', default: '7071' },
  LOCAL_STORAGE_PATH: { scope: 'local', description: 'Folder where the local host keeps what it must not lose on a restart or a kill: blobs (embedded Azurite), documents (Cosmos stand-in), the in-process stream and orchestration histories; unset keeps them in memory.' },
  BLOB_WATCH_INTERVAL_MS: { scope: 'local', description: 'How often the local blob watcher lists the uploads container.', default: '300' },
  KAFKA_BROKERS: { scope: 'local', description: 'Comma-separated Kafka brokers; when set the local host consumes batch records from Kafka instead of its in-process stream.' },
} as const satisfies Record<string, { scope: 'azure' | 'local'; description: string; default?: string }>;

export type AppSetting = keyof typeof APP_SETTINGS;
export type Env = Record<string, string | undefined>;

const credentialSchema = z.object({
  credential: z.enum(['managedidentity']).optional(),
  clientId: z.string().min(1).optional(),
});

/** A service connection the way the Functions host reads one: a connection string, or `NAME__property` settings. */
export type Connection =
  | { kind: 'connectionString'; value: string }
  | { kind: 'identity'; endpoint: string; credential?: 'managedidentity'; clientId?: string };

export interface Config {
  storage?: Connection;
  cosmos?: Connection;
  cosmosDatabase: string;
  eventHub?: Connection;
  eventHubName: string;
  eventHubConsumerGroup: string;
  imageEngine: 'sharp' | 'jimp';
  maxUploadBytes: number;
  maxImagePixels: number;
  local: {
    port: number;
    storagePath?: string;
    blobWatchIntervalMs: number;
    kafkaBrokers?: string[];
  };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function setting(env: Env, name: AppSetting): string | undefined {
  const value = env[name]?.trim();
  if (value) return value;
  const fallback: string | undefined = (APP_SETTINGS[name] as { default?: string }).default;
  return fallback;
}

function integer(env: Env, name: AppSetting, min: number, max: number): number {
  const raw = setting(env, name);
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

/**
 * Reads `NAME` (connection string) or `NAME__<endpointProperty>` (identity-based, as the Functions host does).
 * `endpointFrom` turns the other accepted properties (such as an account name) into an endpoint.
 */
function connection(
  env: Env,
  name: AppSetting,
  endpointProperties: Record<string, (value: string) => string>,
): Connection | undefined {
  const direct = env[name]?.trim();
  if (direct) return { kind: 'connectionString', value: direct };
  for (const [property, toEndpoint] of Object.entries(endpointProperties)) {
    const value = env[`${name}__${property}`]?.trim();
    if (!value) continue;
    const parsed = credentialSchema.safeParse({
      credential: env[`${name}__credential`]?.trim() || undefined,
      clientId: env[`${name}__clientId`]?.trim() || undefined,
    });
    if (!parsed.success) {
      throw new ConfigError(`${name}__credential must be "managedidentity" when set, got "${env[`${name}__credential`]}"`);
    }
    return { kind: 'identity', endpoint: toEndpoint(value), ...parsed.data };
  }
  return undefined;
}

const identity = (value: string) => value;

export function loadConfig(env: Env = process.env): Config {
  const engine = setting(env, 'IMAGE_ENGINE');
  if (engine !== 'sharp' && engine !== 'jimp') {
    throw new ConfigError(`IMAGE_ENGINE must be "sharp" or "jimp", got "${engine}"`);
  }
  const brokers = setting(env, 'KAFKA_BROKERS')
    ?.split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  return {
    storage: connection(env, 'AzureWebJobsStorage', {
      blobServiceUri: identity,
      accountName: (account) => `https://${account}.blob.core.windows.net`,
    }),
    cosmos: connection(env, 'COSMOS_CONNECTION', { accountEndpoint: identity }),
    cosmosDatabase: setting(env, 'COSMOS_DATABASE')!,
    eventHub: connection(env, 'EVENTHUB_CONNECTION', { fullyQualifiedNamespace: identity }),
    eventHubName: setting(env, 'EVENTHUB_NAME')!,
    eventHubConsumerGroup: setting(env, 'EVENTHUB_CONSUMER_GROUP')!,
    imageEngine: engine,
    maxUploadBytes: integer(env, 'MAX_UPLOAD_BYTES', 1, 1024 * 1024 * 1024),
    maxImagePixels: integer(env, 'MAX_IMAGE_PIXELS', 1, 1_000_000_000),
    local: {
      port: integer(env, 'PORT', 0, 65535),
      storagePath: setting(env, 'LOCAL_STORAGE_PATH'),
      blobWatchIntervalMs: integer(env, 'BLOB_WATCH_INTERVAL_MS', 10, 60_000),
      kafkaBrokers: brokers?.length ? brokers : undefined,
    },
  };
}
