// Reads patches the way talosctl takes them: `@file` reads a file, anything else is the patch text itself (a bare
// word without spaces, newlines or a leading bracket is taken as a file name, as upstream guesses). A YAML or JSON list
// is an RFC 6902 patch; one or more maps are a strategic merge patch.
import { readFileSync } from 'node:fs';
import { LineCounter, isMap, isSeq, isScalar, parseAllDocuments } from 'yaml';
import type { Document, Node } from 'yaml';
import { kindOf } from '../yaml-read.js';
import { JSON_PATCH_OPS } from './patch.js';
import type { JsonPatchOperation, JsonPatchOpName, MachineConfigPatch } from './patch.js';
import { PatchError } from './patch-error.js';
import { resolveAliases } from './resolve-aliases.js';

/** Parses one patch's text; `source` names it in every error. */
export function parsePatch(text: string, source: string): MachineConfigPatch {
  const lines = new LineCounter();
  const documents = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false });
  if (!Array.isArray(documents)) return { kind: 'strategic', source, documents: [], lines };
  for (const doc of documents) {
    const error = doc.errors[0];
    if (error) throw new PatchError(`${source} line ${lines.linePos(error.pos[0]).line}`, `invalid YAML: ${error.message.split('\n')[0]}`);
  }
  for (const doc of documents) resolveAliases(doc as Document, source);
  const meaningful = documents.filter((d) => d.contents !== null && !(isScalar(d.contents) && d.contents.value === null));
  if (meaningful.some((d) => isSeq(d.contents))) {
    if (meaningful.length > 1) throw new PatchError(source, 'an RFC 6902 patch is one list of operations; it cannot share the file with other documents');
    return { kind: 'json6902', source, operations: readOperations(meaningful[0], source, lines) };
  }
  for (const doc of meaningful) {
    if (!isMap(doc.contents)) {
      const line = lineOf(doc.contents, lines);
      throw new PatchError(`${source}${line ? ` line ${line}` : ''}`, `expected a map (a partial machine config) or a list of RFC 6902 operations, got ${kindOf(doc.toJS())}`);
    }
  }
  return { kind: 'strategic', source, documents: meaningful as Document[], lines };
}

function readOperations(doc: Document, source: string, lines: LineCounter): JsonPatchOperation[] {
  const seq = doc.contents;
  if (!isSeq(seq)) return [];
  return seq.items.map((item, i) => {
    const where = `${source}: op ${i + 1}${lineOf(item as Node, lines) ? ` (line ${lineOf(item as Node, lines)})` : ''}`;
    const raw: unknown = isMap(item) ? item.toJSON() : undefined;
    if (!isMap(item) || typeof raw !== 'object' || raw === null) throw new PatchError(where, `expected a map such as {op: add, path: /machine/certSANs/-, value: 10.0.0.5}, got ${kindOf((item as Node | null)?.toJSON?.())}`);
    return readOperation(raw as Record<string, unknown>, where);
  });
}

function readOperation(raw: Record<string, unknown>, where: string): JsonPatchOperation {
  const { op, path, from } = raw;
  if (typeof op !== 'string' || !(JSON_PATCH_OPS as readonly string[]).includes(op))
    throw new PatchError(where, `"op" must be one of ${JSON_PATCH_OPS.join(', ')}, got ${JSON.stringify(op ?? null)}`);
  if (typeof path !== 'string') throw new PatchError(where, `"path" is required (a JSON pointer such as /machine/certSANs), got ${kindOf(path)}`);
  const out: JsonPatchOperation = { op: op as JsonPatchOpName, path };
  if (op === 'move' || op === 'copy') {
    if (typeof from !== 'string') throw new PatchError(where, `"from" is required for ${op} (a JSON pointer), got ${kindOf(from)}`);
    out.from = from;
  }
  if (op === 'add' || op === 'replace' || op === 'test') {
    if (!('value' in raw)) throw new PatchError(where, `"value" is required for ${op}`);
    out.value = raw.value;
  }
  return out;
}

function lineOf(node: Node | null | undefined, lines: LineCounter): number | undefined {
  const start = node?.range?.[0];
  return start === undefined ? undefined : lines.linePos(start).line;
}

/**
 * Patch texts received over an API: always the patch itself, never a file name (a server must not read files a
 * client names). Named "patch", or "patch N" when there are several.
 */
export function parsePatches(texts: readonly string[]): MachineConfigPatch[] {
  return texts.map((text, i) => parsePatch(text, texts.length > 1 ? `patch ${i + 1}` : 'patch'));
}

export type ReadPatchFile = (path: string) => string;

const readUtf8: ReadPatchFile = (path) => readFileSync(path, 'utf8');

/**
 * Loads `--patch` arguments in order. Inline patches are named "patch" (or "patch N" when there are several), files by
 * their path. A file that cannot be read says so with the path.
 */
export function loadPatches(args: readonly string[], readFile: ReadPatchFile = readUtf8): MachineConfigPatch[] {
  return args.map((arg, i) => {
    const explicit = arg.startsWith('@');
    const looksLikeFile = !explicit && !/[\n ]/.test(arg) && !arg.startsWith('[') && !arg.startsWith('{');
    if (explicit || looksLikeFile) {
      const path = explicit ? arg.slice(1) : arg;
      if (!path) throw new PatchError(`--patch ${JSON.stringify(arg)}`, 'expected @FILE or the patch text itself');
      return parsePatch(readPatchFile(path, readFile), path);
    }
    return parsePatch(arg, args.length > 1 ? `patch ${i + 1}` : 'patch');
  });
}

function readPatchFile(path: string, readFile: ReadPatchFile): string {
  try {
    return readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new PatchError(`patch file "${path}"`, 'does not exist; pass --patch @FILE with an existing file, or the patch text inline');
    throw new PatchError(`patch file "${path}"`, `cannot be read: ${(err as Error).message}`);
  }
}
