// The lint's cache (scripts/lint-cache.mjs): a file is skipped only while neither its text, nor the text of anything it
// imports, nor the lint's configuration has changed since it last linted clean. The case that makes a per-file cache
// (ESLint's own --cache) wrong for type-aware rules is here: a function made async two imports away must fail the
// unchanged caller. Real ESLint, typescript-eslint and TypeScript over a small project in a temp dir.
import { expect } from 'chai';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ESLint } from 'eslint';
import ts from 'typescript';

interface LintRun {
  results: ESLint.LintResult[];
  linted: string[];
  total: number;
}
interface LintCacheModule {
  LINT_CACHE_FILE: string;
  lintChanged(options: { eslint: ESLint; options: ts.CompilerOptions; root: string }): Promise<LintRun>;
}

const TSCONFIG = { compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, skipLibCheck: true, types: [] }, include: ['*.ts'] };

describe('the lint cache (scripts/lint-cache.mjs)', function () {
  // Loading ESLint's TypeScript parser and type-checking the small project: a few seconds on a loaded machine.
  this.timeout(60_000);
  let cache: LintCacheModule;
  let dir: string;
  const write = (file: string, text: string) => writeFileSync(join(dir, file), text);

  /** One run as compile-and-lint does it: a program of the project as it is now, and the lint of what changed. */
  async function lint(): Promise<{ linted: string[]; total: number; errors: string[] }> {
    const parsed = ts.getParsedCommandLineOfConfigFile(join(dir, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined })!;
    const program = ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options });
    const eslint = new ESLint({ cwd: dir, warnIgnored: false, overrideConfig: { files: ['**/*.ts'], languageOptions: { parserOptions: { programs: [program] } } } });
    const run = await cache.lintChanged({ eslint, options: parsed.options, root: dir });
    const errors = run.results.flatMap((r) => r.messages.map((m) => `${r.filePath.slice(dir.length + 1)}: ${m.ruleId}`));
    return { linted: [...run.linted].sort(), total: run.total, errors };
  }

  before(async () => {
    const loaded: LintCacheModule = await import(pathToFileURL(resolve(process.cwd(), 'scripts/lint-cache.mjs')).href);
    cache = loaded;
  });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tp-lint-cache-'));
    const tseslint = pathToFileURL(createRequire(resolve(process.cwd(), 'package.json')).resolve('typescript-eslint')).href;
    write(
      'eslint.config.js',
      `import tseslint from ${JSON.stringify(tseslint)};\n` +
        `export default [{ files: ['**/*.ts'], languageOptions: { parser: tseslint.parser }, plugins: { '@typescript-eslint': tseslint.plugin },\n` +
        `  rules: { '@typescript-eslint/no-floating-promises': 'error' } }];\n`,
    );
    write('package.json', '{ "type": "module" }\n');
    write('tsconfig.json', JSON.stringify(TSCONFIG));
    // a.ts calls b's work(), which returns what d's base() returns; c.ts imports nothing.
    write('d.ts', 'export function base(): void {}\n');
    write('b.ts', "import { base } from './d.js';\nexport function work(): ReturnType<typeof base> {\n  return base();\n}\n");
    write('a.ts', "import { work } from './b.js';\nwork();\n");
    write('c.ts', 'export const c = 1;\n');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('lints everything at first, then nothing until something changes', async () => {
    expect(await lint()).to.deep.equal({ linted: ['a.ts', 'b.ts', 'c.ts', 'd.ts', 'eslint.config.js'], total: 5, errors: [] });
    expect(await lint()).to.deep.equal({ linted: [], total: 5, errors: [] });
  });

  it('fails an unchanged caller when a function two imports away becomes async, and lints nothing unrelated', async () => {
    await lint();
    write('d.ts', 'export async function base(): Promise<void> {}\n');
    const changed = await lint();
    expect(changed.linted).to.deep.equal(['a.ts', 'b.ts', 'd.ts']);
    expect(changed.errors).to.deep.equal(['a.ts: @typescript-eslint/no-floating-promises']);
    // A file that failed is never recorded clean: the next run lints it again, and fails again.
    expect(await lint()).to.deep.equal({ linted: ['a.ts'], total: 5, errors: ['a.ts: @typescript-eslint/no-floating-promises'] });
    write('a.ts', "import { work } from './b.js';\nvoid work();\n");
    expect(await lint()).to.deep.equal({ linted: ['a.ts'], total: 5, errors: [] });
    expect(await lint()).to.deep.equal({ linted: [], total: 5, errors: [] });
  });

  it('lints everything again when the lint config or the compiler config changes, and a new file at once', async () => {
    await lint();
    write('eslint.config.js', `// the same rules, another text\n${readFileSync(join(dir, 'eslint.config.js'), 'utf8')}`);
    expect((await lint()).linted).to.have.length(5);
    write('tsconfig.json', JSON.stringify({ ...TSCONFIG, compilerOptions: { ...TSCONFIG.compilerOptions, noImplicitReturns: true } }));
    expect((await lint()).linted).to.have.length(5);
    write('e.ts', 'export const e = 2;\n');
    expect(await lint()).to.deep.equal({ linted: ['e.ts'], total: 6, errors: [] });
  });

  it('reads a cache it cannot parse as empty, and lints everything', async () => {
    await lint();
    mkdirSync(join(dir, 'node_modules/.cache/trustplane-lint'), { recursive: true });
    writeFileSync(join(dir, cache.LINT_CACHE_FILE), '{ not json');
    expect((await lint()).linted).to.have.length(5);
    writeFileSync(join(dir, cache.LINT_CACHE_FILE), JSON.stringify({ format: 99, clean: {} }));
    expect((await lint()).linted).to.have.length(5);
    expect((await lint()).linted).to.deep.equal([]);
  });
});
