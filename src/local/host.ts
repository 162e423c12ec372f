import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { handle, ROUTES, WEB_ROUTES } from '../lib/api/routes';
import { loadConfig, type Config, type Env } from '../lib/config';
import { consoleLogger, type Logger } from '../lib/logger';
import { BLOB_CONTAINERS, BLOB_WEBHOOK } from '../lib/names';
import { maintenanceJobs, RETENTION_SWEEP_JOB, type MaintenanceJob } from '../lib/jobs/maintenance';
import { processUpload } from '../lib/processing/process-upload';
import { imageIdForBlob } from '../lib/processing/upload-blob';
import { createServices, type Services } from '../lib/services';
import { watchBlobs } from './blob-watcher';
import { blobWebhookRoute } from './blob-webhook';
import { applyLocalSession, LOCAL_PEOPLE, localSignIn, localSignInAsset, localSignOut, SIGN_IN_ASSETS } from './dev-sign-in';
import { startEmulators, type EmbeddedEmulators } from './emulators';
import { createApiServer, type LocalPage } from './http-server';
import { startJobTimers } from './job-timers';
import { writeLocalHostFile } from './local-host-file';
import { startBatchPipeline } from './orchestration-host';

/** The connection settings as app settings, the way the app (and the CLI) read them. */
function settingsOf(config: Config): Record<string, string> {
  // The host's retention policy too, so the CLI's sweep of these stores applies the same one.
  const settings: Record<string, string> = { COSMOS_DATABASE: config.cosmosDatabase, RETENTION_DAYS: String(config.retentionDays) };
  for (const [name, connection] of [['AzureWebJobsStorage', config.storage], ['COSMOS_CONNECTION', config.cosmos]] as const) {
    if (connection?.kind === 'connectionString') settings[name] = connection.value;
  }
  return settings;
}

export interface LocalHost {
  /** http://127.0.0.1:PORT/api */
  apiUrl: string;
  services: Services;
  /** The HTTP server (tests observe its responses). */
  server: Server;
  /** The maintenance jobs as this host runs them on its timers (tests run one as of another time). */
  jobs: MaintenanceJob[];
  /**
   * Settles if the embedded emulators' thread ends while the host runs: the host has then stopped (its HTTP server
   * closed, every connection dropped), since no request could be served without its stores.
   */
  failed: Promise<Error>;
  /** The embedded emulators' thread, if any (fault-injection tests end it; the benchmarks read its CPU time). */
  emulatorsForTests?: Pick<EmbeddedEmulators, 'worker' | 'osThreadId'>;
  /** What was started and where, for the console. */
  describe(): string[];
  stop(): Promise<void>;
}

/**
 * Runs the app without the Functions host: the same route table and handlers, the blob trigger driven by a
 * watcher, and embedded Azurite and Cosmos stand-ins for whichever connections are not configured.
 */
export async function startLocalHost(env: Env = process.env, log: Logger = consoleLogger): Promise<LocalHost> {
  const stops: Array<() => Promise<void>> = [];
  const notes: string[] = [];
  try {
    // As open as Core Tools unless told otherwise: AUTH_MODE=easyauth enforces what Azure enforces.
    let config: Config = loadConfig(env.AUTH_MODE?.trim() ? env : { ...env, AUTH_MODE: 'open' });
    const easyAuth = config.auth.mode === 'easyauth';
    // With AUTH_MODE=easyauth this host is the Easy Auth in front of the app: it decides what X-MS-CLIENT-PRINCIPAL says.
    if (easyAuth) config = { ...config, auth: { ...config.auth, principalHeaderTrusted: true } };
    // Telemetry first, so every span and metric of the start-up and after is exported; nothing without an endpoint.
    if (config.telemetry.otlpEndpoint) {
      // Loaded only then: the OpenTelemetry SDK is over a thousand modules, which every start would otherwise pay.
      const { startOtlpTelemetry } = await import('../lib/otlp.js');
      const telemetry = startOtlpTelemetry(config.telemetry.otlpEndpoint);
      stops.push(() => telemetry.shutdown());
      notes.push(`Telemetry: traces and metrics to ${config.telemetry.otlpEndpoint} (OTLP/HTTP)`);
    }
    // Azurite and the Cosmos stand-in, for whichever connection is not configured, in a worker thread of their own.
    const cosmosFolder = config.local.storagePath && join(config.local.storagePath, 'cosmos');
    const emulators = !config.storage || !config.cosmos ? await startEmulators({ storage: !config.storage, cosmos: !config.cosmos, storagePath: config.local.storagePath, cosmosFolder, reportWrites: [BLOB_CONTAINERS.uploads] }) : undefined;
    if (emulators) {
      stops.push(emulators.stop);
      notes.push('Emulator thread: the embedded stores below serve from a worker thread of their own, off the event loop that runs the handlers');
    }
    if (emulators?.storage) {
      config = { ...config, storage: { kind: 'connectionString', value: emulators.storage } };
      notes.push(`Azurite (embedded, ${config.local.storagePath ? `persisted in ${config.local.storagePath}` : 'in memory'}): ${emulators.storage}`);
    } else {
      notes.push('Storage: AzureWebJobsStorage as configured');
    }
    if (emulators?.cosmos) {
      config = { ...config, cosmos: { kind: 'connectionString', value: emulators.cosmos } };
      notes.push(`Cosmos DB stand-in (embedded, ${cosmosFolder ? `persisted in ${cosmosFolder}` : 'in memory'}): ${emulators.cosmos}`);
    } else {
      notes.push('Cosmos DB: COSMOS_CONNECTION as configured');
    }
    const services = await createServices(config);
    notes.push(`Image engine: ${services.engine.name}`);

    const watcher = watchBlobs({
      blobs: services.blobs,
      container: BLOB_CONTAINERS.uploads,
      intervalMs: config.local.blobWatchIntervalMs,
      concurrency: 2,
      // A store that restarted empty gets its containers back before the watcher's retry.
      handler: (name) =>
        processUpload(services, name, log).catch(async (error) => {
          await services.recreateMissingStores?.().catch(() => false);
          throw error;
        }),
      label: (name) => `image ${imageIdForBlob(name)}`,
      // The embedded Azurite tells of every write to the container (the only one in reportWrites): the watcher then
      // lists only after one.
      writes: emulators?.storage ? emulators.onWrite : undefined,
      log,
    });
    stops.unshift(() => watcher.stop());
    notes.push(`Blob watcher on ${BLOB_CONTAINERS.uploads}/ every ${config.local.blobWatchIntervalMs} ms (stands in for the blob trigger)`);

    // Batches: the stream (in-process, or Kafka with KAFKA_BROKERS) and the local Durable backend.
    const batches = await startBatchPipeline(services, config, log);
    services.batchStream = batches.stream;
    stops.unshift(() => batches.stop());
    notes.push(...batches.describe);

    // The maintenance jobs Azure runs from its maintenance timer. The batch sweep runs at least four times per
    // receive timeout (at most every minute), so short timeouts are honoured closely.
    const timeoutSeconds = config.batchReceiveTimeoutSeconds;
    // After each retention sweep the files behind LOCAL_STORAGE_PATH drop what the sweep removed: the stand-in's
    // journal keeps replaced versions of documents, the stream's logs the handled records, until compacted.
    const compactFiles = async () => {
      if (emulators?.cosmos) await emulators.compact();
      await batches.stream.compact?.();
    };
    const compactAfter = (job: MaintenanceJob): MaintenanceJob => ({
      ...job,
      run: async (now) => {
        const result = await job.run(now);
        await compactFiles();
        return result;
      },
    });
    const jobs = maintenanceJobs({ services, starter: batches.orchestrations, log }).map((job) => (job.name === RETENTION_SWEEP_JOB ? compactAfter(job) : job));
    const timers = startJobTimers(jobs, log, { 'batch-sweep': Math.min(60_000, Math.max(250, (timeoutSeconds * 1000) / 4)) });
    stops.unshift(timers.stop);
    notes.push(`Maintenance jobs: ${jobs.map((job) => job.name).join(', ')}; batch receive timeout ${timeoutSeconds} s (BATCH_RECEIVE_TIMEOUT), retention ${config.retentionDays} days (RETENTION_DAYS)`);

    const localPages: LocalPage[] = easyAuth
      ? [
          { path: '/.auth/login/aad', methods: ['GET', 'POST'], handler: localSignIn },
          { path: '/.auth/logout', methods: ['GET'], handler: localSignOut },
          ...SIGN_IN_ASSETS.map((file): LocalPage => ({ path: `/.auth/login/${file}`, methods: ['GET'], handler: localSignInAsset(file) })),
        ]
      : [];
    const dispatch = (route: Parameters<typeof handle>[0], request: Parameters<typeof handle>[1]) => {
      if (easyAuth) applyLocalSession(request.headers);
      return handle(route, request, services, log, () => batches.orchestrations);
    };
    const server = createApiServer([...ROUTES, ...WEB_ROUTES, blobWebhookRoute(log)], dispatch, { bodyTimeoutMs: config.local.requestBodyTimeoutMs, localPages });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.local.port, '127.0.0.1', resolve);
    });
    const closeServer = () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    stops.unshift(closeServer);
    const port = (server.address() as AddressInfo).port;
    const apiUrl = `http://127.0.0.1:${port}/api`;
    // The CLI's operator commands (sweep, backup, ...) find this host's stores through this file (src/cli/connections.ts).
    const removeFile = writeLocalHostFile(port, { pid: process.pid, apiUrl, settings: settingsOf(config) });
    stops.push(async () => removeFile());
    notes.push(`Blob extension webhook (Event Grid events, image-pipeline replay-deadletter): POST ${apiUrl.replace('/api', '')}${BLOB_WEBHOOK.path}?functionName=${BLOB_WEBHOOK.processUpload}`);
    const origin = `http://localhost:${port}`;
    notes.unshift(
      easyAuth
        ? `Sign-in: AUTH_MODE=easyauth, the access rules as in Azure: requests need X-MS-CLIENT-PRINCIPAL (as Easy Auth injects it) or a session from the development sign-in page (local only): ${origin}/.auth/login/aad (${LOCAL_PEOPLE.map((p) => `${p.name}: ${p.roles.join(', ')}`).join('; ')})`
        : 'Sign-in: none (AUTH_MODE=open): every request acts as one local user with every role (uploader, analyst, operator); AUTH_MODE=easyauth enforces the access rules as Azure does',
    );
    notes.unshift(`HTTP API: ${apiUrl.replace('127.0.0.1', 'localhost')}/images`);
    notes.unshift(`Web app: ${apiUrl.replace('127.0.0.1', 'localhost')}/web/`);
    let stopped: Promise<void> | undefined;
    const stop = () => (stopped ??= (async () => {
      for (const stop of stops) await stop();
    })());
    const failed = emulators
      ? emulators.lost.then(async (error) => {
          const kept = config.local.storagePath ? `every upload and batch it acknowledged is kept in ${config.local.storagePath}: start it again` : 'it kept everything in memory, so that is gone';
          log.error(`${error.message}. The local host stops serving; ${kept}.`);
          // No answer (or hanging request) from here on; the rest of the stop may wait out the SDKs' retries.
          await closeServer();
          void stop().catch(() => undefined);
          return error;
        })
      : new Promise<Error>(() => undefined);
    return {
      apiUrl,
      services,
      server,
      jobs,
      failed,
      emulatorsForTests: emulators,
      describe: () => notes,
      stop,
    };
  } catch (error) {
    for (const stop of stops) await stop().catch(() => undefined);
    throw error;
  }
}
