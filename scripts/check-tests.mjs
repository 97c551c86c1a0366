#!/usr/bin/env node
/**
 * Fails when a test cannot fail: every `it(…)`/`test(…)` block in a `*.test.ts`, `*.test-d.ts` or `*.e2e.test.ts`
 * file must contain an assertion, and every test file must hold at least one test. Runs before vitest in each
 * package's `test` script (`node ../../scripts/check-tests.mjs`), or on the whole repository with no arguments.
 *
 * An assertion is a call of `expect`, `expectTypeOf`, `assertType`, `assert`, a `.toThrow…` matcher, a
 * `@ts-expect-error` line (type tests), or a call of an asserting helper: one named in {@link ASSERTING_HELPERS}, or a
 * function declared in the test file or exported by a local module it imports whose body itself asserts.
 *
 * Usage: node scripts/check-tests.mjs [dir or file …]   (default: the repository)
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Helpers that assert, by name (extend the alternation when you add one that is not detected on its own). */
export const ASSERTING_HELPERS = /^(?:expectUserError|expectError|expectCode|expect[A-Z]\w*)$/;

/** What counts as an assertion inside a test body (strings and comments blanked first). */
const ASSERTION = /(?<![\w$.])(?:expect|expectTypeOf|assertType|assert)\s*[.(]|\.toThrow\w*\s*\(|\.rejects\.|\.resolves\./;

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TEST_FILE = /\.(?:test|test-d|e2e\.test)\.[cm]?tsx?$/;
const SKIP_DIRS = new Set(['node_modules', 'dist', '.git', '.turbo', 'coverage', 'test-artifacts']);

/**
 * The source with comments and string/template contents replaced by spaces (same length, newlines kept), so that
 * brackets and names can be matched without being fooled by text. `${…}` inside templates stays code.
 */
export function blank(src) {
  const out = src.split('');
  const wipe = (from, to) => {
    for (let k = from; k < to; k++) if (out[k] !== '\n') out[k] = ' ';
  };
  const templateDepth = []; // brace depth at which each open template's `${` started
  let depth = 0;
  let i = 0;
  const n = src.length;
  const scanTemplate = () => {
    // at the character after a backtick or after the closing brace of `${…}`
    const start = i;
    while (i < n) {
      const c = src[i];
      if (c === '\\') i += 2;
      else if (c === '`') {
        wipe(start, i);
        i++;
        return;
      } else if (c === '$' && src[i + 1] === '{') {
        wipe(start, i);
        templateDepth.push(depth);
        depth++;
        i += 2;
        return;
      } else i++;
    }
    wipe(start, n);
  };
  while (i < n) {
    const c = src[i];
    const d = src[i + 1];
    if (c === '/' && d === '/') {
      const end = src.indexOf('\n', i);
      const stop = end < 0 ? n : end;
      wipe(i, stop);
      i = stop;
    } else if (c === '/' && d === '*') {
      const end = src.indexOf('*/', i + 2);
      const stop = end < 0 ? n : end + 2;
      wipe(i, stop);
      i = stop;
    } else if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < n && src[j] !== c && src[j] !== '\n') j += src[j] === '\\' ? 2 : 1;
      wipe(i + 1, j);
      i = j + 1;
    } else if (c === '`') {
      i++;
      scanTemplate();
    } else if (c === '/' && isRegexStart(src, i)) {
      let j = i + 1;
      let inClass = false;
      while (j < n && src[j] !== '\n') {
        if (src[j] === '\\') j++;
        else if (src[j] === '[') inClass = true;
        else if (src[j] === ']') inClass = false;
        else if (src[j] === '/' && !inClass) break;
        j++;
      }
      wipe(i + 1, j);
      i = j + 1;
    } else {
      if (c === '{') depth++;
      else if (c === '}') {
        depth--;
        if (templateDepth.length && templateDepth[templateDepth.length - 1] === depth) {
          templateDepth.pop();
          i++;
          scanTemplate();
          continue;
        }
      }
      i++;
    }
  }
  return out.join('');
}

/** Whether the `/` at `i` starts a regular expression literal (rather than a division). */
function isRegexStart(src, i) {
  let j = i - 1;
  while (j >= 0 && /\s/.test(src[j])) j--;
  if (j < 0) return true;
  const prev = src[j];
  if (/[(,=:[!&|?{};+\-*%<>~^]/.test(prev)) return true;
  const word = src.slice(0, j + 1).match(/[\w$]+$/)?.[0];
  return word !== undefined && ['return', 'typeof', 'case', 'of', 'in', 'void', 'await', 'yield'].includes(word);
}

/** Vitest's test modifiers (`it.each(…)(…)`, `test.skipIf(…)(…)`, …); anything else after `it.`/`test.` is not a test. */
const MODIFIERS = new Set(['each', 'for', 'skip', 'skipIf', 'runIf', 'only', 'concurrent', 'sequential', 'fails', 'todo', 'shuffle']);

/** Index of the bracket closing the one at `open` in blanked code, or -1. */
function matching(code, open) {
  const pairs = { '(': ')', '[': ']', '{': '}' };
  const stack = [];
  for (let k = open; k < code.length; k++) {
    const c = code[k];
    if (c in pairs) stack.push(pairs[c]);
    else if (c === ')' || c === ']' || c === '}') {
      if (stack.pop() !== c) return -1;
      if (stack.length === 0) return k;
    }
  }
  return -1;
}

/** Test blocks of a blanked source: `{ name, line, body }` per `it(…)`/`test(…)` call (modifiers such as `.each(…)` included). */
export function findTests(code) {
  const tests = [];
  const head = /(?<![\w$.])(it|test)\b/g;
  for (let m = head.exec(code); m; m = head.exec(code)) {
    let k = m.index + m[0].length;
    let modifiers = '';
    let call = -1;
    for (;;) {
      while (/\s/.test(code[k] ?? '')) k++;
      if (code[k] === '.') {
        const id = code.slice(k + 1).match(/^\s*([\w$]+)/);
        if (!id || !MODIFIERS.has(id[1])) {
          call = -1;
          break;
        }
        modifiers += `.${id[1]}`;
        k += 1 + id[0].length;
      } else if (code[k] === '(') {
        const close = matching(code, k);
        if (close < 0) break;
        let after = close + 1;
        while (/\s/.test(code[after] ?? '')) after++;
        if (code[after] === '(' || code[after] === '.') {
          k = after; // a modifier call such as .each([...]) or .skipIf(cond)
          continue;
        }
        call = k;
        k = close;
        break;
      } else break;
    }
    if (call < 0 || /\.todo\b/.test(modifiers)) continue;
    const close = matching(code, call);
    // A test call takes a name and a body: `it('…', () => …)`. A call with fewer arguments is some other function that
    // happens to be named `test` or `it` (a predicate `test()`, say).
    if (!hasTopLevelComma(code, call + 1, close)) continue;
    tests.push({ line: code.slice(0, m.index).split('\n').length, body: code.slice(call + 1, close), modifiers });
    head.lastIndex = close;
  }
  return tests;
}

/** Whether `code[from, to)` (blanked) holds a comma outside any bracket: a call with two or more arguments. */
function hasTopLevelComma(code, from, to) {
  let depth = 0;
  for (let k = from; k < to; k++) {
    const c = code[k];
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 0) return true;
  }
  return false;
}

/** Names of functions declared in `code` (blanked) whose bodies assert, given helpers known to assert. */
function assertingFunctions(code, known) {
  const names = new Set();
  const decl =
    /(?:function\s*\*?\s*([\w$]+)\s*(?:<[^>]*>)?\s*\(|(?:const|let)\s+([\w$]+)\s*(?::[^=]+)?=\s*(?:async\s*)?(?:function\b[^(]*)?\()/g;
  for (let m = decl.exec(code); m; m = decl.exec(code)) {
    const name = m[1] ?? m[2];
    const open = code.indexOf('{', m.index + m[0].length - 1);
    const close = open < 0 ? -1 : matching(code, open);
    if (close < 0) continue;
    if (asserts(code.slice(open, close), known)) names.add(name);
  }
  return names;
}

function asserts(body, helpers, raw = '') {
  if (ASSERTION.test(body) || raw.includes('@ts-expect-error')) return true;
  for (const m of body.matchAll(/(?<![\w$.])([\w$]+)\s*(?:<[^>()]*>)?\s*\(/g)) {
    if (ASSERTING_HELPERS.test(m[1]) || helpers.has(m[1])) return true;
  }
  return false;
}

/** Asserting helpers a test file imports from local modules (`./test-helpers`, `../e2e/harness`, …). */
function importedHelpers(file, src) {
  const names = new Set();
  // import specifiers are strings, blanked in the code: read them from the source
  for (const m of src.matchAll(/import\s+(?:type\s+)?\{([^}]*)\}\s*from\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
    const target = resolveModule(dirname(file), m[2]);
    if (!target) continue;
    const local = assertingFunctions(blank(readFileSync(target, 'utf8')), new Set());
    for (const spec of m[1].split(',')) {
      const [orig, alias] = spec
        .replace(/\btype\s+/, '')
        .trim()
        .split(/\s+as\s+/);
      if (orig && local.has(orig)) names.add(alias ?? orig);
    }
  }
  return names;
}

function resolveModule(dir, spec) {
  const base = resolve(dir, spec.replace(/\.[cm]?js$/, ''));
  for (const ext of ['.ts', '.mts', '.tsx', '/index.ts', '']) {
    const p = base + ext;
    if (existsSync(p) && statSync(p).isFile()) return p;
  }
  return null;
}

/** Problems of one test file, as messages (empty when it is fine). */
export function checkFile(file) {
  const src = readFileSync(file, 'utf8');
  const code = blank(src);
  const tests = findTests(code);
  if (tests.length === 0) return [`${file}: no it()/test() block; a test file must test something`];
  let helpers = importedHelpers(file, src);
  // two passes, so local helpers that call other asserting helpers count too
  for (let pass = 0; pass < 2; pass++) helpers = new Set([...helpers, ...assertingFunctions(code, helpers)]);
  const problems = [];
  const rawLines = src.split('\n');
  for (const t of tests) {
    const lines = t.body.split('\n').length;
    const raw = rawLines.slice(t.line - 1, t.line - 1 + lines).join('\n');
    if (!asserts(t.body, helpers, raw)) {
      const title = rawLines[t.line - 1]?.trim().slice(0, 100);
      problems.push(`${file}:${t.line}: test without an assertion: ${title}`);
    }
  }
  return problems;
}

function collect(path, out) {
  const st = statSync(path);
  if (st.isFile()) {
    if (TEST_FILE.test(path)) out.push(path);
    return;
  }
  for (const entry of readdirSync(path)) {
    if (SKIP_DIRS.has(entry)) continue;
    collect(join(path, entry), out);
  }
}

function main(args) {
  const roots = args.length ? args.map((a) => resolve(a)) : [ROOT];
  const files = [];
  for (const r of roots) collect(r, files);
  const problems = files.flatMap(checkFile);
  const rel = (p) => relative(process.cwd(), p) || p;
  if (problems.length) {
    for (const p of problems) console.error(`check-tests: ${p.replace(/^\/\S+?(?=:)/, (m) => rel(m))}`);
    console.error(
      `check-tests: ${problems.length} problem(s) in ${files.length} test files. Add an assertion (expect, expectTypeOf, a helper that asserts), or list an asserting helper in ASSERTING_HELPERS (scripts/check-tests.mjs).`,
    );
    process.exitCode = 1;
  } else {
    console.log(`check-tests: ${files.length} test files, every test asserts`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main(process.argv.slice(2));
