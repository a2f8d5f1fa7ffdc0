import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

const CLI_DIR = resolve(process.cwd(), 'dist/src/cli');

/**
 * Every module a compiled file loads before it runs: its static imports and theirs, followed through our own files;
 * a bare specifier (a package) is recorded, not entered. `await import(...)` is not followed: that is the lazy path.
 */
function staticImports(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^(?:import|export)\s[^;]*?from\s*['"]([^'"]+)['"]|^import\s*['"]([^'"]+)['"]/gm)) {
      const spec = m[1] ?? m[2];
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec));
      else seen.add(spec);
    }
  };
  visit(entry);
  return seen;
}

const loadsAge = (entry: string) => [...staticImports(resolve(CLI_DIR, entry))].filter((m) => m === 'age-encryption' || m.endsWith('/age-file.js'));

describe('the age library loads only when a command needs it', () => {
  it('trustctl itself (--help, every command declared) and the actions that read or write secrets do not import it up front', () => {
    for (const entry of ['main.js', 'gen-secrets.js', 'gen-config.js', 'config-new.js', 'config-info.js', 'apply-config.js', 'serve-action.js', 'input-file.js', 'age-output.js']) {
      expect(loadsAge(entry), entry).to.deep.equal([]);
    }
  });

  it('the walk does find it where it is imported (so the check above can fail)', () => {
    expect(staticImports(resolve(process.cwd(), 'dist/src/config/age-file.js')).has('age-encryption')).to.equal(true);
    expect(staticImports(resolve(CLI_DIR, 'main.js')).has('commander')).to.equal(true);
  });
});
