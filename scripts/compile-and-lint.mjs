// tsc's compile and eslint's type-aware lint over one TypeScript program. Each built the same program on its own: eslint
// (parserOptions.project) parsed and type-checked every file again after tsc had, ~7 s of CPU of the ~32 s the two
// took here. `npm run build` still runs tsc itself; this is for the test runner, and works alone too.
// Usage: node scripts/compile-and-lint.mjs [--emit] [--lint]
//   --emit  compile as `tsc -p tsconfig.json` does (incremental, writing dist/), and report its diagnostics;
//   --lint  then lint as `eslint --no-warn-ignored .` does, type-aware rules reading the program just built; a file
//           that linted clean is skipped while nothing its result depends on has changed (scripts/lint-cache.mjs).
// Under the test runner (an IPC channel) each step is sent as it ends,
// `{ step: 'compiled' | 'linted', code, output, summary }`, so the tests start as soon as the compile is done and the
// lint goes on beside them. Alone, each step's output is printed and the exit code is the first failing step's.
import { ESLint } from 'eslint';
import ts from 'typescript';
import { lintChanged } from './lint-cache.mjs';

const args = process.argv.slice(2);
const emit = args.includes('--emit');
const lint = args.includes('--lint');

const report = (step, code, output, summary) => {
  if (process.send) process.send({ step, code, output, summary });
  else {
    process.stdout.write(output);
    if (summary) process.stdout.write(`${step}: ${summary}\n`);
    if (code !== 0 && !process.exitCode) process.exitCode = code;
  }
};

const configHost = {
  ...ts.sys,
  onUnRecoverableConfigFileDiagnostic: (d) => {
    throw new Error(`tsconfig.json: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
  },
};
const config = ts.getParsedCommandLineOfConfigFile('tsconfig.json', {}, configHost);
// tsconfig.json is incremental: unchanged files keep the diagnostics dist/.tsbuildinfo holds, and are not checked again.
const builder = ts.createIncrementalProgram({
  rootNames: config.fileNames,
  options: config.options,
  projectReferences: config.projectReferences,
  configFileParsingDiagnostics: ts.getConfigFileParsingDiagnostics(config),
});

if (emit) {
  // tsc's order: every diagnostic first (so the build info records them), then the emit.
  const diagnostics = [
    ...builder.getConfigFileParsingDiagnostics(),
    ...builder.getOptionsDiagnostics(),
    ...builder.getGlobalDiagnostics(),
    ...builder.getSyntacticDiagnostics(),
    ...builder.getSemanticDiagnostics(),
  ];
  diagnostics.push(...builder.emit().diagnostics);
  const errors = diagnostics.filter((d) => d.category === ts.DiagnosticCategory.Error).length;
  const formatHost = { getCanonicalFileName: (f) => f, getCurrentDirectory: ts.sys.getCurrentDirectory, getNewLine: () => '\n' };
  const output = diagnostics.length ? `${ts.formatDiagnostics(diagnostics, formatHost)}\nFound ${errors} error(s).\n` : '';
  // tsc's own exit code when there are errors and it emitted anyway.
  report('compiled', errors > 0 ? 2 : 0, output);
}

if (lint) {
  // eslint.config.js's own settings, and for the TypeScript files (the program holds them all) the program itself:
  // typescript-eslint then neither parses them again nor builds a program of its own.
  const eslint = new ESLint({
    warnIgnored: false,
    overrideConfig: { files: ['**/*.ts'], languageOptions: { parserOptions: { programs: [builder.getProgram()] } } },
  });
  // Only what changed since it last linted clean, with what it imports (scripts/lint-cache.mjs): ~20 s of CPU here for
  // every file, a few hundred milliseconds for none.
  const { results, linted, total } = await lintChanged({ eslint, options: config.options, root: process.cwd() });
  const errors = results.reduce((n, r) => n + r.errorCount, 0);
  const output = await (await eslint.loadFormatter('stylish')).format(results);
  report('linted', errors > 0 ? 1 : 0, output, `${linted.length} of ${total} files linted, the rest unchanged since they last linted clean`);
}
