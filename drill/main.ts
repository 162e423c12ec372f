import { runRegionLossDrill } from './region-loss';

// npm run drill: the region-loss drill on this machine, printing what it measured.
runRegionLossDrill(undefined, (line) => console.log(line)).then(
  () => process.exit(0),
  (error: Error) => {
    console.error(`drill failed: ${error.stack ?? error.message}`);
    process.exit(1);
  },
);
