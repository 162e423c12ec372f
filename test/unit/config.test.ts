import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { APP_SETTINGS, ConfigError, loadConfig, type Env } from '../../src/lib/config.js';

const repoRoot = path.resolve(__dirname, '../..');

/** The ConfigError loadConfig throws, failing the test when it does not throw one. */
function configError(env: Env): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('loadConfig accepted the settings');
}

describe('loadConfig', () => {
  it('gives the documented defaults for an empty environment', () => {
    expect(loadConfig({})).toEqual({
      storage: undefined,
      cosmos: undefined,
      cosmosDatabase: 'image-pipeline',
      cosmosPreferredRegions: [],
      eventHub: undefined,
      eventHubName: 'image-batches',
      eventHubConsumerGroup: '$Default',
      imageEngine: 'sharp',
      maxUploadBytes: 26_214_400,
      maxImagePixels: 50_000_000,
      callbackAllowedHosts: [],
      continuationTokenKey: undefined,
      batchReceiveTimeoutSeconds: 1800,
      telemetry: {},
      retentionDays: 7,
      analyticsStorage: undefined,
      duplicateHashDistance: 4,
      // Fail-safe: the header is believed only where App Service says its authentication is on.
      auth: { mode: 'easyauth', principalHeaderTrusted: false },
      ownerHashSalt: undefined,
      uploadLimits: { requestsPerMinute: 60, bytesPerDay: 10 * 1024 ** 3 },
      local: { port: 7071, storagePath: undefined, blobWatchIntervalMs: 300, kafkaBrokers: undefined, requestBodyTimeoutMs: 30_000 },
    });
  });

  it('sends telemetry to Application Insights (with Entra ID when asked) or to an OTLP endpoint, and refuses an endpoint that is not a URL', () => {
    expect(loadConfig({ APPLICATIONINSIGHTS_CONNECTION_STRING: 'InstrumentationKey=x', APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=abc;Authorization=AAD' }).telemetry).toEqual({
      applicationInsights: { connectionString: 'InstrumentationKey=x', entraId: true },
    });
    expect(loadConfig({ APPLICATIONINSIGHTS_CONNECTION_STRING: 'InstrumentationKey=x' }).telemetry).toEqual({ applicationInsights: { connectionString: 'InstrumentationKey=x', entraId: false } });
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://localhost:4318/' }).telemetry).toEqual({ otlpEndpoint: 'http://localhost:4318' });
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'localhost:4318' })).toThrow(new ConfigError('OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL such as http://localhost:4318, got "localhost:4318"'));
  });

  it('treats blank values as unset and trims the rest', () => {
    const config = loadConfig({ IMAGE_ENGINE: '  ', MAX_UPLOAD_BYTES: ' 1000 ', KAFKA_BROKERS: ' a:9092, ,b:9092 ', LOCAL_STORAGE_PATH: '' });
    expect(config).toMatchObject({ imageEngine: 'sharp', maxUploadBytes: 1000, local: { kafkaBrokers: ['a:9092', 'b:9092'], storagePath: undefined } });
  });

  it('reads every setting it documents', () => {
    const config = loadConfig({
      COSMOS_DATABASE: 'db',
      COSMOS_PREFERRED_REGIONS: 'westeurope, North Europe',
      EVENTHUB_NAME: 'hub',
      EVENTHUB_CONSUMER_GROUP: 'group',
      IMAGE_ENGINE: 'jimp',
      MAX_UPLOAD_BYTES: '1048576',
      MAX_IMAGE_PIXELS: '1000000',
      BATCH_RECEIVE_TIMEOUT: '5',
      PORT: '0',
      LOCAL_STORAGE_PATH: '/tmp/blobs',
      BLOB_WATCH_INTERVAL_MS: '50',
      CALLBACK_ALLOWED_HOSTS: 'hooks.corp.example, 10.0.0.0/8 ,::1',
      CONTINUATION_TOKEN_KEY: 'k'.repeat(32),
      REQUEST_BODY_TIMEOUT_MS: '500',
      RETENTION_DAYS: '3',
      AUTH_MODE: 'open',
      WEBSITE_AUTH_ENABLED: 'True',
      OWNER_HASH_SALT: 's'.repeat(32),
      UPLOAD_RATE_PER_MINUTE: '0',
      UPLOAD_BYTES_PER_DAY: '1000',
    });
    expect(config).toMatchObject({
      cosmosDatabase: 'db',
      cosmosPreferredRegions: ['westeurope', 'North Europe'],
      retentionDays: 3,
      eventHubName: 'hub',
      eventHubConsumerGroup: 'group',
      imageEngine: 'jimp',
      maxUploadBytes: 1_048_576,
      maxImagePixels: 1_000_000,
      callbackAllowedHosts: ['hooks.corp.example', '10.0.0.0/8', '::1'],
      continuationTokenKey: 'k'.repeat(32),
      batchReceiveTimeoutSeconds: 5,
      auth: { mode: 'open', principalHeaderTrusted: true },
      ownerHashSalt: 's'.repeat(32),
      uploadLimits: { requestsPerMinute: 0, bytesPerDay: 1000 },
      local: { port: 0, storagePath: '/tmp/blobs', blobWatchIntervalMs: 50, requestBodyTimeoutMs: 500 },
    });
    // App Service writes "True"; anything else is not it.
    expect(loadConfig({ WEBSITE_AUTH_ENABLED: 'true' }).auth.principalHeaderTrusted).toBe(true);
    expect(loadConfig({ WEBSITE_AUTH_ENABLED: 'False' }).auth.principalHeaderTrusted).toBe(false);
  });

  describe('connections', () => {
    it('takes a connection string as it is', () => {
      const value = 'DefaultEndpointsProtocol=https;AccountName=a;AccountKey=k;EndpointSuffix=core.windows.net';
      expect(loadConfig({ AzureWebJobsStorage: value }).storage).toEqual({ kind: 'connectionString', value });
    });

    it('turns AzureWebJobsStorage__accountName into the blob endpoint, with credential and client id', () => {
      const config = loadConfig({
        AzureWebJobsStorage__accountName: 'stimages01',
        AzureWebJobsStorage__credential: 'managedidentity',
        AzureWebJobsStorage__clientId: '00000000-0000-0000-0000-000000000001',
      });
      expect(config.storage).toEqual({
        kind: 'identity',
        endpoint: 'https://stimages01.blob.core.windows.net',
        credential: 'managedidentity',
        clientId: '00000000-0000-0000-0000-000000000001',
      });
    });

    it('prefers __blobServiceUri, and needs neither credential nor client id', () => {
      const config = loadConfig({
        AzureWebJobsStorage__blobServiceUri: 'https://custom.example/',
        AzureWebJobsStorage__accountName: 'ignored',
      });
      expect(config.storage).toEqual({ kind: 'identity', endpoint: 'https://custom.example/' });
    });

    it('reads Cosmos DB and Event Hubs identity settings the same way', () => {
      const config = loadConfig({
        COSMOS_CONNECTION__accountEndpoint: 'https://cosmos-x.documents.azure.com:443/',
        COSMOS_CONNECTION__credential: 'managedidentity',
        EVENTHUB_CONNECTION__fullyQualifiedNamespace: 'ns.servicebus.windows.net',
        EVENTHUB_CONNECTION__clientId: 'client',
      });
      expect(config.cosmos).toEqual({ kind: 'identity', endpoint: 'https://cosmos-x.documents.azure.com:443/', credential: 'managedidentity' });
      expect(config.eventHub).toEqual({ kind: 'identity', endpoint: 'ns.servicebus.windows.net', clientId: 'client' });
    });

    it('fails fast on an unknown credential kind', () => {
      const error = configError({ AzureWebJobsStorage__accountName: 'a', AzureWebJobsStorage__credential: 'connectionstring' });
      expect(error.message).toBe('AzureWebJobsStorage__credential must be "managedidentity" when set, got "connectionstring"');
    });
  });

  it('lets the local blob watcher wait up to an hour (the upload bench keeps processing out of its figure)', () => {
    expect(loadConfig({ BLOB_WATCH_INTERVAL_MS: '3600000' }).local.blobWatchIntervalMs).toBe(3_600_000);
  });

  describe('fails fast with a message that names the setting', () => {
    it.each([
      [{ IMAGE_ENGINE: 'imagemagick' }, 'IMAGE_ENGINE must be "sharp" or "jimp", got "imagemagick"'],
      [{ IMAGE_ENGINE: 'Sharp' }, 'IMAGE_ENGINE must be "sharp" or "jimp", got "Sharp"'],
      [{ MAX_UPLOAD_BYTES: '25MB' }, 'MAX_UPLOAD_BYTES must be an integer from 1 to 1073741824, got "25MB"'],
      [{ MAX_UPLOAD_BYTES: '0' }, 'MAX_UPLOAD_BYTES must be an integer from 1 to 1073741824, got "0"'],
      [{ MAX_UPLOAD_BYTES: '1.5' }, 'MAX_UPLOAD_BYTES must be an integer from 1 to 1073741824, got "1.5"'],
      [{ MAX_UPLOAD_BYTES: '2000000000' }, 'MAX_UPLOAD_BYTES must be an integer from 1 to 1073741824, got "2000000000"'],
      [{ MAX_IMAGE_PIXELS: '-1' }, 'MAX_IMAGE_PIXELS must be an integer from 1 to 1000000000, got "-1"'],
      [{ PORT: '70000' }, 'PORT must be an integer from 0 to 65535, got "70000"'],
      [{ REQUEST_BODY_TIMEOUT_MS: '10' }, 'REQUEST_BODY_TIMEOUT_MS must be an integer from 100 to 600000, got "10"'],
      // At most an hour: the upload bench slows the watcher that far, so processing stays out of its figure.
      [{ BLOB_WATCH_INTERVAL_MS: '3600001' }, 'BLOB_WATCH_INTERVAL_MS must be an integer from 10 to 3600000, got "3600001"'],
      [{ CALLBACK_ALLOWED_HOSTS: 'ok.example, http://x/' }, 'CALLBACK_ALLOWED_HOSTS must list host names, IP addresses or CIDR ranges (10.0.0.0/8), got "http://x/"'],
      [{ CALLBACK_ALLOWED_HOSTS: '10.0.0.0/33' }, 'CALLBACK_ALLOWED_HOSTS must list host names, IP addresses or CIDR ranges (10.0.0.0/8), got "10.0.0.0/33"'],
      [{ CONTINUATION_TOKEN_KEY: 'short' }, 'CONTINUATION_TOKEN_KEY must be at least 32 characters, got 5'],
      [{ COSMOS_CONNECTION: 'AccountKey=a2V5' }, 'COSMOS_CONNECTION must look like AccountEndpoint=https://...;AccountKey=...; (it has no AccountEndpoint)'],
      [{ AzureWebJobsStorage: 'AccountName=a' }, 'AzureWebJobsStorage must look like DefaultEndpointsProtocol=https;AccountName=...;AccountKey=...; (it has no AccountKey)'],
      [{ AzureWebJobsStorage: 'AccountName=a;AccountKey=a2V5;BlobEndpoint=ftp://x' }, 'AzureWebJobsStorage has an endpoint that is not an http(s) URL: "ftp://x"'],
      [{ BATCH_RECEIVE_TIMEOUT: '0' }, 'BATCH_RECEIVE_TIMEOUT must be an integer from 1 to 604800, got "0"'],
      // The privacy policy: shorter is allowed, longer is refused at start-up.
      [{ RETENTION_DAYS: '8' }, 'RETENTION_DAYS must be a whole number of days from 1 to 7 (the privacy policy keeps images and their personal metadata at most 7 days), got "8"'],
      [{ RETENTION_DAYS: '30' }, 'RETENTION_DAYS must be a whole number of days from 1 to 7 (the privacy policy keeps images and their personal metadata at most 7 days), got "30"'],
      [{ RETENTION_DAYS: '0' }, 'RETENTION_DAYS must be a whole number of days from 1 to 7 (the privacy policy keeps images and their personal metadata at most 7 days), got "0"'],
      [{ RETENTION_DAYS: '6.5' }, 'RETENTION_DAYS must be a whole number of days from 1 to 7 (the privacy policy keeps images and their personal metadata at most 7 days), got "6.5"'],
      [{ AUTH_MODE: 'none' }, 'AUTH_MODE must be "easyauth" or "open", got "none"'],
      [{ OWNER_HASH_SALT: 'short' }, 'OWNER_HASH_SALT must be at least 32 characters, got 5'],
      [{ UPLOAD_RATE_PER_MINUTE: '-1' }, 'UPLOAD_RATE_PER_MINUTE must be an integer from 0 to 1000000, got "-1"'],
    ])('%o', (env, message) => {
      expect(configError(env).message).toBe(message);
    });
  });
});

describe('local.settings.sample.json', () => {
  const sample = JSON.parse(readFileSync(path.join(repoRoot, 'local.settings.sample.json'), 'utf8')) as { Values: Record<string, string> };

  it('holds every app setting and nothing else but FUNCTIONS_WORKER_RUNTIME (never one the platform injects)', () => {
    const ours = Object.entries(APP_SETTINGS).filter(([, s]) => s.scope !== 'platform').map(([name]) => name);
    expect(Object.keys(sample.Values).sort()).toEqual([...ours, 'FUNCTIONS_WORKER_RUNTIME'].sort());
    expect(sample.Values.AUTH_MODE, 'func start has no Easy Auth in front').toBe('open');
    expect(sample.Values.FUNCTIONS_WORKER_RUNTIME).toBe('node');
  });

  it('loads as a valid configuration', () => {
    expect(() => loadConfig(sample.Values)).not.toThrow();
  });
});
