/* global require, process, __dirname */
// Runs the image-pipeline CLI from its TypeScript sources in a process of its own, so a test can SIGKILL it like a
// real deployment and start it again. Each .ts file is compiled to CommonJS on load with the project's TypeScript,
// as `npm run build` compiles it (module node16, no "type": "module"). Arguments as for the CLI.
const { readFileSync } = require('node:fs');
const path = require('node:path');
const ts = require('typescript');

require.extensions['.ts'] = (module, filename) => {
  const { outputText } = ts.transpileModule(readFileSync(filename, 'utf8'), {
    fileName: filename,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, sourceMap: false },
  });
  module._compile(outputText, filename);
};

process.argv = [process.argv[0], 'image-pipeline', ...process.argv.slice(2)];
require(path.join(__dirname, '../../src/cli/main.ts'));
