import { startLocalHost } from './host';
import { describeStartupError } from './startup-error';

async function main(): Promise<void> {
  const host = await startLocalHost();
  console.log(['Image Pipeline local host', ...host.describe().map((line) => `  ${line}`), 'Ctrl+C to stop.'].join('\n'));
  const shutdown = () => {
    host.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  // The emulator thread ended: the host has stopped serving (and said why); the process says so with its exit code.
  void host.failed.then(() => process.exit(1));
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((error) => {
  console.error(describeStartupError(error));
  process.exit(1);
});
