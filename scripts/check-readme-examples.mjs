#!/usr/bin/env node
// Type-checks every code example of the package READMEs (the ```ts and ```js blocks of packages/*/README.md that
// import an @fmnist/* package) as strict TypeScript, each as its own ES module, so the READMEs cannot drift from the
// types.
//
// usage: node scripts/check-readme-examples.mjs [projectDir]
//   projectDir: a project where @fmnist/*, typescript, @types/node, @tensorflow/tfjs, onnxruntime-node and sharp are installed
//   (the pack smoke test passes its consumer project). Without it, a temp project linking the workspace's packages is
//   made (build first) and removed afterwards.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const README_DIRS = ['packages', 'apps'].flatMap((d) => readdirSync(join(ROOT, d)).map((p) => join(d, p)));

/** The examples: `{ file, line, lang, code }` of every ```ts / ```js block importing an @fmnist/* package. */
export function extractExamples(root = ROOT) {
  const out = [];
  for (const dir of README_DIRS) {
    const readme = join(root, dir, 'README.md');
    if (!existsSync(readme) || JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')).private) continue;
    const lines = readFileSync(readme, 'utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      const open = /^```(ts|js|typescript|javascript)\s*$/.exec(lines[i]);
      if (!open) continue;
      const start = i + 1;
      while (i + 1 < lines.length && !/^```\s*$/.test(lines[++i]));
      const code = lines.slice(start, i).join('\n');
      if (/from '@fmnist\//.test(code)) out.push({ file: `${dir}/README.md`, line: start + 1, lang: open[1], code });
    }
  }
  return out;
}

/** A temp project whose node_modules link the workspace's packages and tools. */
function linkWorkspace(dir) {
  const req = createRequire(join(ROOT, 'packages/data/package.json'));
  const reqOnnx = createRequire(join(ROOT, 'packages/onnx/package.json'));
  const reqClassify = createRequire(join(ROOT, 'packages/classify/package.json'));
  const links = {
    '@fmnist/classify': join(ROOT, 'packages/classify'),
    sharp: dirname(dirname(reqClassify.resolve('sharp'))), // sharp exports no ./package.json: its folder from dist/index.cjs
    '@fmnist/data': join(ROOT, 'packages/data'),
    '@fmnist/model': join(ROOT, 'packages/model'),
    '@fmnist/onnx': join(ROOT, 'packages/onnx'),
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

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const given = process.argv[2];
  const project = given ? resolve(given) : mkdtempSync(join(tmpdir(), 'fmnist-readme-'));
  try {
    if (!given) linkWorkspace(project);
    console.log(checkReadmeExamples(project));
  } catch (err) {
    console.error(err.message);
    process.exitCode = 1;
  } finally {
    if (!given) rmSync(project, { recursive: true, force: true });
  }
}
