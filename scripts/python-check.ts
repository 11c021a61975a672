/**
 * Python held to the same standard as TypeScript: ruff's linter and formatter (its WebAssembly build, so
 * nothing is fetched from outside npm) over training/ and bench/*.py. `--write` applies the formatter.
 * Type checking is pyright's (package.json "typecheck:python").
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { PositionEncoding, Workspace } from '@astral-sh/ruff-wasm-nodejs';

const ROOTS = ['training', 'bench'];

interface Position {
  row: number;
  column: number;
}
interface Diagnostic {
  code: string | null;
  message: string;
  start_location: Position;
  fix: { edits: { content: string | null; location: Position; end_location: Position }[] } | null;
}

/** Applies the first fix of each diagnostic whose edits do not overlap an earlier one (1-based rows and columns). */
function applyFixes(text: string, diagnostics: Diagnostic[]): string {
  const lineStarts = [0];
  for (let i = 0; i < text.length; i += 1) if (text[i] === '\n') lineStarts.push(i + 1);
  const offset = (p: Position) => (lineStarts[p.row - 1] ?? text.length) + p.column - 1;
  const edits = diagnostics
    .flatMap((d) => d.fix?.edits ?? [])
    .map((e) => ({ start: offset(e.location), end: offset(e.end_location), content: e.content ?? '' }))
    .sort((a, b) => b.start - a.start);
  let out = text;
  let limit = Number.POSITIVE_INFINITY;
  for (const edit of edits) {
    if (edit.end > limit) continue;
    out = out.slice(0, edit.start) + edit.content + out.slice(edit.end);
    limit = edit.start;
  }
  return out;
}
const write = process.argv.includes('--write');

async function pythonFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && !entry.name.startsWith('.') && entry.name !== '__pycache__')
      files.push(...(await pythonFiles(path)));
    else if (entry.isFile() && entry.name.endsWith('.py')) files.push(path);
  }
  return files.sort();
}

const workspace = new Workspace(
  {
    'line-length': 120,
    'target-version': 'py39',
    lint: {
      select: ['E', 'F', 'W', 'I', 'B', 'UP'],
      ignore: ['E731', 'B905', 'UP006', 'UP007', 'UP035', 'UP045'],
    },
    format: { 'quote-style': 'double' },
  },
  PositionEncoding.Utf16,
);

let problems = 0;
for (const root of ROOTS) {
  for (const path of await pythonFiles(root)) {
    const source = await readFile(path, 'utf8');
    const formatted = workspace.format(source);
    if (formatted !== source && !write) {
      problems += 1;
      console.log(`${relative('.', path)}: not formatted (npm run format:python)`);
    }
    let text = write ? formatted : source;
    let diagnostics = workspace.check(text) as Diagnostic[];
    if (write) {
      // Apply ruff's own fixes (import order, unused imports...), then format again.
      for (let round = 0; round < 5 && diagnostics.some((d) => d.fix !== null); round += 1) {
        text = workspace.format(applyFixes(text, diagnostics));
        diagnostics = workspace.check(text) as Diagnostic[];
      }
      if (text !== source) await writeFile(path, text);
    }
    for (const d of diagnostics) {
      problems += 1;
      console.log(
        `${relative('.', path)}:${d.start_location.row}:${d.start_location.column}: ${d.code ?? ''} ${d.message}`,
      );
    }
  }
}
if (problems > 0) {
  console.error(`${problems} Python problem(s)`);
  process.exit(1);
}
console.log('Python: ruff lint and format clean');
