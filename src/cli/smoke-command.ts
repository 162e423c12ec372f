import { parseArgs } from 'node:util';
import { API_SCOPE_VARIABLE, entraAuth } from './api-client';
import type { CliIo } from './cli-io';
import { sharedCredential } from './credential';
import { runSmoke, SmokeFailure } from './smoke';

const USAGE = `Usage: image-pipeline smoke --api <url> [--api-scope <scope>] [--timeout <seconds>]

Checks a running deployment end to end: uploads an image with ?wait, sends a 3-image batch through
POST /api/batches, and checks the results and the summary. Exits 1 with the failing step on the first failure.

  --api <url>                    API base (default: http://localhost:7071/api)
  --api-scope <scope>            Entra ID scope of the app registration, api://<client id>/.default (default:
                                 ${API_SCOPE_VARIABLE}): the run's identity (az login, a service principal, a
                                 managed identity) needs the app role uploader. Not needed by the local host.
  --timeout <seconds>            How long each step may take (default: 120)
`;

export async function runSmokeCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      api: { type: 'string', default: 'http://localhost:7071/api' },
      'api-scope': { type: 'string' },
      timeout: { type: 'string', default: '120' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    io.err(USAGE);
    return 0;
  }
  const timeoutSeconds = Number(values.timeout);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) throw new Error(`--timeout must be a positive number of seconds; got "${values.timeout}".`);
  try {
    const auth = entraAuth(values['api-scope'] ?? process.env[API_SCOPE_VARIABLE], sharedCredential());
    await runSmoke({ api: values.api!, auth, timeoutSeconds, log: (line) => io.out(`${line}\n`) });
  } catch (error) {
    if (!(error instanceof SmokeFailure)) throw error;
    io.err(`image-pipeline smoke: FAILED at ${error.message}\n`);
    return 1;
  }
  io.out(`image-pipeline smoke: passed against ${values.api}\n`);
  return 0;
}
