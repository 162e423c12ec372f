import { z } from 'zod';
import { isAllowedHostEntry } from './callback-address';

/**
 * Every app setting the code reads, in one place: the README table, local.settings.sample.json and the
 * Bicep consistency test are all checked against this list.
 * `scope: 'azure'` settings are set by the Bicep; `scope: 'local'` ones only mean something to the local host;
 * `scope: 'platform'` ones are injected by App Service and must never be set by us (the Bicep test checks it does not).
 */
export const APP_SETTINGS = {
  AzureWebJobsStorage: { scope: 'azure', description: 'Storage for uploads, derivatives and the Functions host: a connection string, or identity-based via AzureWebJobsStorage__accountName / __blobServiceUri + __credential + __clientId. Unset locally: embedded Azurite.' },
  COSMOS_CONNECTION: { scope: 'azure', description: 'Cosmos DB: a connection string, or identity-based via COSMOS_CONNECTION__accountEndpoint + __credential + __clientId. Unset locally: embedded Cosmos stand-in.' },
  COSMOS_DATABASE: { scope: 'azure', description: 'Cosmos DB database name.', default: 'image-pipeline' },
  COSMOS_PREFERRED_REGIONS: { scope: 'azure', description: 'Comma-separated Azure regions (northeurope or North Europe) in the order the app reads from the multi-region Cosmos DB account through its global endpoint; writes go to the current write region wherever it is. Unset: the account\'s own order.' },
  EVENTHUB_CONNECTION: { scope: 'azure', description: 'Event Hubs namespace for batch records: identity-based via EVENTHUB_CONNECTION__fullyQualifiedNamespace + __credential + __clientId, or a connection string.' },
  EVENTHUB_NAME: { scope: 'azure', description: 'Event hub (Kafka topic) carrying batch records.', default: 'image-batches' },
  EVENTHUB_CONSUMER_GROUP: { scope: 'azure', description: 'Consumer group of the batch ingest trigger.', default: '$Default' },
  IMAGE_ENGINE: { scope: 'azure', description: 'Image engine: sharp (fast, native) or jimp (pure JavaScript).', default: 'sharp' },
  MAX_UPLOAD_BYTES: { scope: 'azure', description: 'Largest accepted image, in bytes.', default: '26214400' },
  MAX_IMAGE_PIXELS: { scope: 'azure', description: 'Largest accepted image, in pixels (width x height), checked from the header before decoding.', default: '50000000' },
  BATCH_RECEIVE_TIMEOUT: { scope: 'azure', description: 'Seconds without a new record after which a batch still receiving is closed: missing items fail as "never received" and what arrived is processed.', default: '1800' },
  BLOB_TRIGGER_SOURCE: { scope: 'azure', description: 'Blob trigger source: EventGrid (Azure, Flex Consumption) or LogsAndContainerScan (func start with Azurite).', default: 'EventGrid' },
  CALLBACK_ALLOWED_HOSTS: { scope: 'azure', description: 'Comma-separated host names, addresses or CIDR ranges whose loopback or private addresses batch callbacks may reach; unset: public addresses only.' },
  ANALYTICS_STORAGE: { scope: 'azure', description: 'Storage account (Data Lake Storage Gen2 in Azure) whose analytics container receives the Parquet exports: a connection string, or identity-based via ANALYTICS_STORAGE__blobServiceUri / __accountName + __credential + __clientId. Unset: the analytics container of AzureWebJobsStorage.' },
  DUPLICATE_HASH_DISTANCE: { scope: 'azure', description: 'Perceptual hashes differing in at most this many bits (0-4) make near-duplicates, in batch summaries, facts and GET /api/images/{id}/similar.', default: '4' },
  CONTINUATION_TOKEN_KEY: { scope: 'azure', description: 'Secret (at least 32 characters) that signs listing continuation tokens (HMAC-SHA256). Unset: a random key per process.' },
  APPLICATIONINSIGHTS_CONNECTION_STRING: { scope: 'azure', description: 'Application Insights: the app exports its traces, metrics and logs there with OpenTelemetry (and the Functions host its own telemetry). Unset: no Azure Monitor export.' },
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: { scope: 'azure', description: 'Authorization=AAD (with ClientId=...): telemetry is sent with the managed identity (Entra ID), as the resource takes no keys.' },
  RETENTION_DAYS: { scope: 'azure', description: 'Days an image and its personal metadata are kept: every blob of it is deleted and its documents de-identified before then. At most 7 (the privacy policy); shorter is allowed, longer is refused at start-up. Backups are pruned to it too (image-pipeline backup --prune).', default: '7' },
  AUTH_MODE: { scope: 'azure', description: 'Who the caller is: easyauth (the X-MS-CLIENT-PRINCIPAL header App Service Authentication injects, trusted only where WEBSITE_AUTH_ENABLED says it is on) or open (everyone is one local user with every role; the local host\'s default, never for a reachable deployment).', default: 'easyauth' },
  WEBSITE_AUTH_ENABLED: { scope: 'platform', description: 'Set by App Service itself (read-only) when App Service Authentication is on. Never set it yourself: it is what tells the app that the X-MS-CLIENT-PRINCIPAL header comes from Easy Auth and not from a client.' },
  OWNER_HASH_SALT: { scope: 'azure', description: 'Secret (at least 32 characters) that salts the owner hash in de-identified analytics facts (HMAC-SHA256 of the owner\'s object id), so analysts can count per user without knowing who. Keep it fixed: a new salt gives everyone new hashes. Unset: a random salt per process.' },
  UPLOAD_RATE_PER_MINUTE: { scope: 'azure', description: 'Upload requests (POST /api/images, POST /api/batches, PUT /api/batches/{id}) one user may make per minute; 0 turns the limit off.', default: '60' },
  UPLOAD_BYTES_PER_DAY: { scope: 'azure', description: 'Image bytes one user may upload per UTC day (single images and web batches); 0 turns the quota off.', default: '10737418240' },
  PORT: { scope: 'local', description: 'Local host HTTP port.', default: '7071' },
  LOCAL_STORAGE_PATH: { scope: 'local', description: 'Folder where the local host keeps what it must not lose on a restart or a kill: blobs (embedded Azurite), documents (Cosmos stand-in), the in-process stream and orchestration histories; unset keeps them in memory.' },
  BLOB_WATCH_INTERVAL_MS: { scope: 'local', description: 'How often the local blob watcher may list the uploads container (with the embedded Azurite, only after something was written there).', default: '300' },
  KAFKA_BROKERS: { scope: 'local', description: 'Comma-separated Kafka brokers; when set the local host consumes batch records from Kafka instead of its in-process stream.' },
  REQUEST_BODY_TIMEOUT_MS: { scope: 'local', description: 'Local host only: a request whose body stops arriving for this long is answered 408.', default: '30000' },
  OTEL_EXPORTER_OTLP_ENDPOINT: { scope: 'local', description: 'OTLP/HTTP endpoint (e.g. http://localhost:4318) the local host (or func start without Application Insights) exports traces and metrics to; unset: no export.' },
} as const satisfies Record<string, { scope: 'azure' | 'local' | 'platform'; description: string; default?: string }>;

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
  /** Regions the Cosmos DB client prefers, in order (the SDK compares them without spaces or case). */
  cosmosPreferredRegions: string[];
  eventHub?: Connection;
  eventHubName: string;
  eventHubConsumerGroup: string;
  imageEngine: 'sharp' | 'jimp';
  maxUploadBytes: number;
  maxImagePixels: number;
  callbackAllowedHosts: string[];
  /** Unset: src/lib/api/signed-token.ts signs with a random key of this process. */
  continuationTokenKey?: string;
  batchReceiveTimeoutSeconds: number;
  telemetry: TelemetrySettings;
  /** RETENTION_DAYS: 1 to MAX_RETENTION_DAYS. */
  retentionDays: number;
  /** Unset: exports go to the analytics container of `storage`. */
  analyticsStorage?: Connection;
  duplicateHashDistance: number;
  auth: {
    mode: AuthMode;
    /**
     * Whether something in front of the app replaces any client-supplied X-MS-CLIENT-PRINCIPAL: App Service
     * Authentication (WEBSITE_AUTH_ENABLED, set by the platform), or the local host standing in for it.
     */
    principalHeaderTrusted: boolean;
  };
  /** Unset: src/lib/auth/owner-hash.ts salts with a random value of this process. */
  ownerHashSalt?: string;
  uploadLimits: {
    /** 0: no limit. */
    requestsPerMinute: number;
    /** 0: no quota. */
    bytesPerDay: number;
  };
  local: {
    port: number;
    storagePath?: string;
    blobWatchIntervalMs: number;
    kafkaBrokers?: string[];
    requestBodyTimeoutMs: number;
  };
}

/** The privacy policy: no image or personal metadata is kept longer than this (README "Privacy"). */
export const MAX_RETENTION_DAYS = 7;

export const AUTH_MODES = ['easyauth', 'open'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

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

const list = (env: Env, name: AppSetting) =>
  setting(env, name)
    ?.split(',')
    .map((item) => item.trim())
    .filter(Boolean) ?? [];

/**
 * Connection strings are checked here, so a malformed one is a configuration error naming the setting rather than a
 * stack trace from a client. `required` lists alternatives: every key of one of them must be present.
 */
function checkConnectionString(name: AppSetting, value: string, required: string[][], example: string): void {
  if (value === 'UseDevelopmentStorage=true') return;
  const parts = new Map(
    value
      .split(';')
      .filter((part) => part.includes('='))
      .map((part) => [part.slice(0, part.indexOf('=')).trim().toLowerCase(), part.slice(part.indexOf('=') + 1).trim()] as const),
  );
  if (!required.some((keys) => keys.every((key) => parts.get(key.toLowerCase())))) {
    throw new ConfigError(`${name} must look like ${example} (it has no ${required[0].filter((key) => !parts.get(key.toLowerCase())).join(' or ')})`);
  }
  for (const [key, endpoint] of parts) {
    if (!key.endsWith('endpoint')) continue;
    let url: URL | undefined;
    try {
      url = new URL(endpoint);
    } catch {
      // reported below
    }
    if (url?.protocol !== 'http:' && url?.protocol !== 'https:') throw new ConfigError(`${name} has an endpoint that is not an http(s) URL: "${endpoint}"`);
  }
}

export interface TelemetrySettings {
  /** Azure Monitor (Application Insights), in Azure. */
  applicationInsights?: { connectionString: string; entraId: boolean };
  /** An OTLP/HTTP collector, locally. */
  otlpEndpoint?: string;
}

/** Where telemetry goes; read on its own, since it starts before anything else the app does. */
export function loadTelemetrySettings(env: Env = process.env): TelemetrySettings {
  const connectionString = setting(env, 'APPLICATIONINSIGHTS_CONNECTION_STRING');
  const otlpEndpoint = setting(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  if (otlpEndpoint !== undefined && !/^https?:\/\/[^\s/]+(\/\S*)?$/.test(otlpEndpoint)) {
    throw new ConfigError(`OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL such as http://localhost:4318, got "${otlpEndpoint}"`);
  }
  return {
    ...(connectionString ? { applicationInsights: { connectionString, entraId: /Authorization=AAD/i.test(setting(env, 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING') ?? '') } } : {}),
    ...(otlpEndpoint ? { otlpEndpoint: otlpEndpoint.replace(/\/+$/, '') } : {}),
  };
}

export function loadConfig(env: Env = process.env): Config {
  const engine = setting(env, 'IMAGE_ENGINE');
  if (engine !== 'sharp' && engine !== 'jimp') {
    throw new ConfigError(`IMAGE_ENGINE must be "sharp" or "jimp", got "${engine}"`);
  }
  const brokers = list(env, 'KAFKA_BROKERS');
  const storage = connection(env, 'AzureWebJobsStorage', {
    blobServiceUri: identity,
    accountName: (account) => `https://${account}.blob.core.windows.net`,
  });
  if (storage?.kind === 'connectionString') {
    checkConnectionString('AzureWebJobsStorage', storage.value, [['AccountName', 'AccountKey'], ['BlobEndpoint', 'SharedAccessSignature']], 'DefaultEndpointsProtocol=https;AccountName=...;AccountKey=...;');
  }
  const analyticsStorage = connection(env, 'ANALYTICS_STORAGE', {
    blobServiceUri: identity,
    accountName: (account) => `https://${account}.blob.core.windows.net`,
  });
  if (analyticsStorage?.kind === 'connectionString') {
    checkConnectionString('ANALYTICS_STORAGE', analyticsStorage.value, [['AccountName', 'AccountKey'], ['BlobEndpoint', 'SharedAccessSignature']], 'DefaultEndpointsProtocol=https;AccountName=...;AccountKey=...;');
  }
  const cosmos = connection(env, 'COSMOS_CONNECTION', { accountEndpoint: identity });
  if (cosmos?.kind === 'connectionString') {
    checkConnectionString('COSMOS_CONNECTION', cosmos.value, [['AccountEndpoint', 'AccountKey']], 'AccountEndpoint=https://...;AccountKey=...;');
  }
  const callbackAllowedHosts = list(env, 'CALLBACK_ALLOWED_HOSTS');
  const badHost = callbackAllowedHosts.find((entry) => !isAllowedHostEntry(entry));
  if (badHost !== undefined) {
    throw new ConfigError(`CALLBACK_ALLOWED_HOSTS must list host names, IP addresses or CIDR ranges (10.0.0.0/8), got "${badHost}"`);
  }
  const continuationTokenKey = setting(env, 'CONTINUATION_TOKEN_KEY');
  if (continuationTokenKey !== undefined && continuationTokenKey.length < 32) {
    throw new ConfigError(`CONTINUATION_TOKEN_KEY must be at least 32 characters, got ${continuationTokenKey.length}`);
  }
  const retentionDays = Number(setting(env, 'RETENTION_DAYS'));
  if (!Number.isInteger(retentionDays) || retentionDays < 1 || retentionDays > MAX_RETENTION_DAYS) {
    throw new ConfigError(`RETENTION_DAYS must be a whole number of days from 1 to ${MAX_RETENTION_DAYS} (the privacy policy keeps images and their personal metadata at most ${MAX_RETENTION_DAYS} days), got "${setting(env, 'RETENTION_DAYS')}"`);
  }
  const authMode = setting(env, 'AUTH_MODE');
  if (!AUTH_MODES.includes(authMode as AuthMode)) throw new ConfigError(`AUTH_MODE must be "easyauth" or "open", got "${authMode}"`);
  const ownerHashSalt = setting(env, 'OWNER_HASH_SALT');
  if (ownerHashSalt !== undefined && ownerHashSalt.length < 32) {
    throw new ConfigError(`OWNER_HASH_SALT must be at least 32 characters, got ${ownerHashSalt.length}`);
  }
  return {
    storage,
    cosmos,
    cosmosDatabase: setting(env, 'COSMOS_DATABASE')!,
    cosmosPreferredRegions: list(env, 'COSMOS_PREFERRED_REGIONS'),
    eventHub: connection(env, 'EVENTHUB_CONNECTION', { fullyQualifiedNamespace: identity }),
    eventHubName: setting(env, 'EVENTHUB_NAME')!,
    eventHubConsumerGroup: setting(env, 'EVENTHUB_CONSUMER_GROUP')!,
    imageEngine: engine,
    maxUploadBytes: integer(env, 'MAX_UPLOAD_BYTES', 1, 1024 * 1024 * 1024),
    maxImagePixels: integer(env, 'MAX_IMAGE_PIXELS', 1, 1_000_000_000),
    callbackAllowedHosts,
    continuationTokenKey,
    batchReceiveTimeoutSeconds: integer(env, 'BATCH_RECEIVE_TIMEOUT', 1, 7 * 24 * 3600),
    telemetry: loadTelemetrySettings(env),
    retentionDays,
    analyticsStorage,
    // 4 = MAX_DUPLICATE_DISTANCE of images/near-duplicates.ts (a layer above this one; test/unit/config.test.ts ties them).
    duplicateHashDistance: integer(env, 'DUPLICATE_HASH_DISTANCE', 0, 4),
    auth: {
      mode: authMode as AuthMode,
      // App Service writes "True"; the value is the platform's, never an app setting of ours.
      principalHeaderTrusted: setting(env, 'WEBSITE_AUTH_ENABLED')?.toLowerCase() === 'true',
    },
    ownerHashSalt,
    uploadLimits: {
      requestsPerMinute: integer(env, 'UPLOAD_RATE_PER_MINUTE', 0, 1_000_000),
      bytesPerDay: integer(env, 'UPLOAD_BYTES_PER_DAY', 0, 2 ** 50),
    },
    local: {
      port: integer(env, 'PORT', 0, 65535),
      storagePath: setting(env, 'LOCAL_STORAGE_PATH'),
      blobWatchIntervalMs: integer(env, 'BLOB_WATCH_INTERVAL_MS', 10, 3_600_000),
      kafkaBrokers: brokers.length ? brokers : undefined,
      requestBodyTimeoutMs: integer(env, 'REQUEST_BODY_TIMEOUT_MS', 100, 600_000),
    },
  };
}
