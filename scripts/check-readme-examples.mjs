#!/usr/bin/env node
// Checks every code example of the package READMEs (the ```ts and ```js blocks of packages/*/README.md and
// apps/*/README.md that import an @fmnist/* package), so the READMEs cannot drift:
// 1. type-checks each as strict TypeScript, its own ES module (checkReadmeExamples);
// 2. executes each as its own ES module (runReadmeExamples): TypeScript is compiled to JavaScript with the project's
//    typescript (transpileModule, inline source maps), and run with node, README by README in README order, each
//    README's examples in one fresh temp working directory (so one example may read what an earlier one wrote, and
//    relative paths land there), with a per-example timeout. The data comes from the machine, never the network:
//    FMNIST_SYSTEM_DIR=/usr/share/datasets/fashion-mnist, FMNIST_MIRRORS an unreachable address, a temp cache
//    (XDG_CACHE_HOME); without the dataset the execution is skipped with a printed reason.
//    An example that cannot run here (browser only) is marked in its README by the line before its fence:
//      <!-- example: no-run (browser only: an OffscreenCanvas) -->
//    it is still type-checked, and its skip is printed with the reason. Any other `<!-- example: … -->` is an error.
//    Files an example reads but no README makes (FIXTURES below, e.g. the photo shoe.jpg) are made before its README
//    runs.
//
// usage: node scripts/check-readme-examples.mjs [--no-run | --print] [projectDir]
//   projectDir: a project where @fmnist/*, typescript, @types/node, @tensorflow/tfjs, onnxruntime-node and sharp are installed
//   (the pack smoke test passes its consumer project). Without it, a temp project linking the workspace's packages is
//   made (build first) and removed afterwards. --no-run: type-check only; --print: also print each example's stdout.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const README_DIRS = ['packages', 'apps'].flatMap((d) => readdirSync(join(ROOT, d)).map((p) => join(d, p)));

/** The one annotation an example may carry, on the line before its fence: `<!-- example: no-run (reason) -->`. */
const NO_RUN = /^<!--\s*example:\s*no-run\s*\((.*\S.*)\)\s*-->\s*$/;

/**
 * The examples: `{ file, line, lang, code, noRun }` of every ```ts / ```js block importing an @fmnist/* package (`line`:
 * the README line of the block's first code line; `noRun`: the reason of its `no-run` mark, if any).
 */
export function extractExamples(root = ROOT) {
  const out = [];
  const problems = [];
  for (const dir of README_DIRS) {
    const readme = join(root, dir, 'README.md');
    if (!existsSync(readme) || JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')).private) continue;
    const file = `${dir}/README.md`;
    const lines = readFileSync(readme, 'utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      if (/<!--\s*example:/.test(lines[i])) {
        // An annotation that is misspelt, has no reason, or is not right before an example would silently do nothing.
        if (!NO_RUN.test(lines[i]))
          problems.push(
            `${file}:${i + 1}: unknown example annotation '${lines[i].trim()}'; the one form is '<!-- example: no-run (reason) -->'`,
          );
        else if (!/^```(ts|js|typescript|javascript)\s*$/.test(lines[i + 1] ?? ''))
          problems.push(`${file}:${i + 1}: '${lines[i].trim()}' must be the line right before a \`\`\`ts or \`\`\`js fence`);
        continue;
      }
      const open = /^```(ts|js|typescript|javascript)\s*$/.exec(lines[i]);
      if (!open) continue;
      const noRun = NO_RUN.exec(lines[i - 1] ?? '')?.[1];
      const start = i + 1;
      while (i + 1 < lines.length && !/^```\s*$/.test(lines[++i]));
      const code = lines.slice(start, i).join('\n');
      if (/from '@fmnist\//.test(code)) out.push({ file, line: start + 1, lang: open[1], code, noRun });
      else if (noRun) problems.push(`${file}:${start}: a no-run mark on a block that imports no @fmnist/* package (not an example)`);
    }
  }
  if (problems.length) throw new Error(`README example annotations:\n${problems.join('\n')}`);
  return out;
}

/** A temp project whose node_modules link the workspace's packages and tools. */
export function linkWorkspace(dir) {
  const req = createRequire(join(ROOT, 'packages/data/package.json'));
  const reqOnnx = createRequire(join(ROOT, 'packages/onnx/package.json'));
  const reqClassify = createRequire(join(ROOT, 'packages/classify/package.json'));
  const links = {
    '@fmnist/classify': join(ROOT, 'packages/classify'),
    sharp: dirname(dirname(reqClassify.resolve('sharp'))), // sharp exports no ./package.json: its folder from dist/index.cjs
    '@fmnist/data': join(ROOT, 'packages/data'),
    '@fmnist/model': join(ROOT, 'packages/model'),
    '@fmnist/onnx': join(ROOT, 'packages/onnx'),
    '@fmnist/report': join(ROOT, 'packages/report'),
    typescript: dirname(req.resolve('typescript/package.json')),
    '@tensorflow/tfjs': dirname(req.resolve('@tensorflow/tfjs/package.json')),
    'onnxruntime-node': dirname(reqOnnx.resolve('onnxruntime-node/package.json')),
    '@types/node': dirname(createRequire(join(ROOT, 'package.json')).resolve('@types/node/package.json')),
  };
  for (const [name, target] of Object.entries(links)) {
    mkdirSync(dirname(join(dir, 'node_modules', name)), { recursive: true });
    symlinkSync(target, join(dir, 'node_modules', name), 'dir');
  }
}

/** Type-checks every example in `projectDir` (see the header); throws with each error at its README line. */
export function checkReadmeExamples(projectDir) {
  const examples = extractExamples();
  const dir = join(projectDir, 'readme-examples');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const names = examples.map((e, i) => {
    const name = `${e.file.replace(/\/README\.md$/, '').replace(/\W+/g, '-')}-line-${e.line}.ts`;
    // Each block is its own module (top-level await); the header maps errors back to the README line.
    writeFileSync(join(dir, name), `// ${e.file}:${e.line}\n${e.code}\nexport {};\n`);
    return [name, examples[i]];
  });
  writeFileSync(
    join(dir, 'tsconfig.json'),
    `${JSON.stringify(
      {
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          lib: ['es2022', 'dom'],
          types: ['node'],
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          noUnusedLocals: false,
        },
        files: names.map(([n]) => n),
      },
      null,
      2,
    )}\n`,
  );
  writeFileSync(join(dir, 'package.json'), '{ "type": "module", "private": true }\n');
  const tsc = join(projectDir, 'node_modules/typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', dir, '--pretty', 'false'], { cwd: dir, encoding: 'utf8' });
  const errors = `${r.stdout}${r.stderr}`
    .split('\n')
    .filter((l) => /error TS/.test(l))
    .map((l) => {
      const m = /^(.+?)\((\d+),(\d+)\): (.*)$/.exec(l);
      const hit = m && names.find(([n]) => n === m[1]);
      return hit ? `${hit[1].file}:${hit[1].line + Number(m[2]) - 2}: ${m[4]}` : l;
    });
  if (errors.length || r.status !== 0)
    throw new Error(`README examples that are not strict-TypeScript clean:\n${errors.join('\n') || r.stdout}`);
  return `${examples.length} README examples (${[...new Set(examples.map((e) => e.file))].join(', ')}) pass tsc --strict`;
}

/** Where the examples find the dataset: the loader's system-copy folder (Debian's dataset-fashion-mnist). */
export const SYSTEM_DIR = '/usr/share/datasets/fashion-mnist';
const DATA_FILES = ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'];
/** Each example's time limit; one that has not exited by then fails (a hang, an open handle, a training run too long). */
export const EXAMPLE_TIMEOUT_MS = 240_000;

/**
 * Files examples read that no README example writes, made in the README's working directory (by a module run there)
 * before its first example that names them.
 */
const FIXTURES = [
  {
    file: 'shoe.jpg',
    what: 'the first sneaker of the test set, dark on white, enlarged 10× onto a 600×400 white JPEG',
    script: `import sharp from 'sharp';
import { getImage, loadFashionMnist } from '@fmnist/data';
const { test } = await loadFashionMnist({ splits: ['test'], download: false });
const i = test.labels.indexOf(7);
const shoe = await sharp(Buffer.from(getImage(test, i).map((v) => 255 - v)), { raw: { width: 28, height: 28, channels: 1 } })
  .resize(280, 280, { kernel: 'lanczos3' }).png().toBuffer();
await sharp({ create: { width: 600, height: 400, channels: 3, background: '#ffffff' } })
  .composite([{ input: shoe, left: 160, top: 60 }]).jpeg({ quality: 90 }).toFile('shoe.jpg');
`,
  },
];

/** The examples' environment: data from SYSTEM_DIR only, downloads fail at once (port 9, discard), a temp cache. */
function exampleEnv(cacheHome) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(FMNIST_|npm_|pnpm_)|^NODE_OPTIONS$|^INIT_CWD$/i.test(k)) env[k] = v;
  return { ...env, FMNIST_SYSTEM_DIR: SYSTEM_DIR, FMNIST_MIRRORS: 'http://127.0.0.1:9/', XDG_CACHE_HOME: cacheHome, NO_COLOR: '1' };
}

/** Runs one module with node in `cwd`; returns null when it exited 0, else why not, with the end of its output. */
function runModule(path, { cwd, env, timeoutMs, mapLine = (l) => l }) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--enable-source-maps', path], {
    cwd,
    env,
    encoding: 'utf8',
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
    maxBuffer: 64 * 1024 * 1024,
  });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status === 0 && !r.error) return { seconds, failure: null, stdout: r.stdout };
  const why =
    r.error?.code === 'ETIMEDOUT'
      ? `did not exit within ${timeoutMs / 1000} s`
      : r.error
        ? r.error.message
        : `exit status ${r.status}${r.signal ? ` (${r.signal})` : ''}`;
  // Stack frames of the example's own file point at its README lines.
  const output = `${r.stderr ?? ''}`.trim() || `${r.stdout ?? ''}`.trim();
  const tail = output.split('\n').slice(-25).map(mapLine).join('\n');
  const timing = r.error?.code === 'ETIMEDOUT' ? '' : ` after ${seconds.toFixed(1)} s`;
  return { seconds, failure: `${why}${timing}${tail ? `\n${tail}` : ''}` };
}

/**
 * Executes every README example (see the header) in `projectDir`, where the packages are installed. Throws with every
 * failing example (README file and line, why, the end of its stderr); returns the summary.
 *
 * @param {string} projectDir
 * @param {{ timeoutMs?: number, log?: (line: string) => void, print?: boolean, root?: string }} [options] - log: one line
 *   per example as it ends; print: with its stdout (to compare with the README's comments); root: whose READMEs
 * @returns {{ executed: number, skipped: { file: string, line: number, reason: string }[], seconds: number, summary: string }}
 */
export function runReadmeExamples(projectDir, { timeoutMs = EXAMPLE_TIMEOUT_MS, log = () => {}, print = false, root = ROOT } = {}) {
  const t0 = performance.now();
  const examples = extractExamples(root);
  const missing = DATA_FILES.filter((f) => !existsSync(join(SYSTEM_DIR, f)));
  if (missing.length) {
    const reason = `the dataset is not installed in ${SYSTEM_DIR} (missing ${missing.join(', ')}; apt install dataset-fashion-mnist)`;
    const skipped = examples.map((e) => ({ file: e.file, line: e.line, reason }));
    return {
      executed: 0,
      skipped,
      seconds: 0,
      summary: `${examples.length} examples type-checked, 0 executed, ${examples.length} skipped: ${reason}`,
    };
  }
  const ts = createRequire(join(projectDir, 'package.json'))('typescript');
  // The compiled modules live in the project (so that they resolve its node_modules); they run in temp folders.
  const codeDir = join(projectDir, 'readme-examples-run');
  rmSync(codeDir, { recursive: true, force: true });
  mkdirSync(codeDir, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), 'fmnist-readme-run-'));
  const env = exampleEnv(join(work, 'cache'));
  const skipped = [];
  const failures = [];
  const fixturesMade = [];
  let executed = 0;
  try {
    for (const readme of [...new Set(examples.map((e) => e.file))]) {
      const cwd = join(work, readme.replace(/\/README\.md$/, '').replace(/\W+/g, '-'));
      mkdirSync(cwd, { recursive: true });
      const made = new Set();
      for (const e of examples.filter((x) => x.file === readme)) {
        const where = `${e.file}:${e.line}`;
        if (e.noRun) {
          skipped.push({ file: e.file, line: e.line, reason: e.noRun });
          log(`  skipped: ${where} — ${e.noRun}`);
          continue;
        }
        for (const f of FIXTURES.filter((x) => !made.has(x.file) && e.code.includes(`'${x.file}'`))) {
          made.add(f.file);
          const path = join(codeDir, `fixture-${f.file.replace(/\W+/g, '-')}.mjs`);
          writeFileSync(path, f.script);
          const r = runModule(path, { cwd, env, timeoutMs });
          if (r.failure) failures.push(`${where}: making its fixture ${f.file} failed: ${r.failure}`);
          else fixturesMade.push(`${f.file} (${f.what})`);
        }
        const base = `${e.file.replace(/\/README\.md$/, '').replace(/\W+/g, '-')}-line-${e.line}`;
        const isTs = e.lang === 'ts' || e.lang === 'typescript';
        const source = `${base}.${isTs ? 'ts' : 'js'}`;
        const path = join(codeDir, `${base}.mjs`);
        const js = isTs
          ? ts.transpileModule(e.code, {
              fileName: source,
              compilerOptions: {
                module: ts.ModuleKind.ESNext,
                target: ts.ScriptTarget.ES2022,
                inlineSourceMap: true,
                inlineSources: true,
              },
            }).outputText
          : e.code;
        // JS runs as written; a stack frame `…/<base>.ts:L` or `…/<base>.mjs:L` is README line e.line + L - 1.
        writeFileSync(path, js);
        const frame = new RegExp(`(?:file://)?[^\\s()]*${base}\\.(?:ts|mjs):(\\d+)(?::\\d+)?`, 'g');
        const mapLine = (l) => l.replace(frame, (_, n) => `${e.file}:${e.line + Number(n) - 1}`);
        const r = runModule(path, { cwd, env, timeoutMs, mapLine });
        if (r.failure) failures.push(`${where}: ${r.failure}`);
        else executed++;
        log(`  ${r.failure ? 'failed' : 'ran'}: ${where} (${r.seconds.toFixed(1)} s)`);
        if (print && r.stdout?.trim()) log(r.stdout.trimEnd().replace(/^/gm, '    | '));
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
    rmSync(codeDir, { recursive: true, force: true });
  }
  const seconds = (performance.now() - t0) / 1000;
  if (failures.length)
    throw new Error(
      `README examples that fail when executed (cwd: a temp folder per README; data: ${SYSTEM_DIR}):\n${failures.join('\n\n')}`,
    );
  const summary = [
    `${examples.length} examples type-checked, ${executed} executed in ${seconds.toFixed(1)} s, ${skipped.length} skipped${
      skipped.length ? ` (${skipped.map((s) => `${s.file}:${s.line} — ${s.reason}`).join('; ')})` : ''
    }`,
    ...(fixturesMade.length ? [`fixtures made: ${fixturesMade.join('; ')}`] : []),
  ].join('\n');
  return { executed, skipped, seconds, summary };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const typecheckOnly = args.includes('--no-run');
  const given = args.find((a) => !a.startsWith('--'));
  const project = given ? resolve(given) : mkdtempSync(join(tmpdir(), 'fmnist-readme-'));
  try {
    if (!given) linkWorkspace(project);
    console.log(checkReadmeExamples(project));
    if (!typecheckOnly) console.log(runReadmeExamples(project, { log: (l) => console.log(l), print: args.includes('--print') }).summary);
  } catch (err) {
    console.error(err.message);
    process.exitCode = 1;
  } finally {
    if (!given) rmSync(project, { recursive: true, force: true });
  }
}
