#!/usr/bin/env node
// Release dry run: the real release commands, run on a throwaway copy of the workspace against a throwaway registry.
//
// 1. copy the workspace (what git would check out: .gitignore'd files, node_modules and .git are left out) to a temp
//    folder and `pnpm install --frozen-lockfile` there (from the pnpm store);
// 2. `pnpm version-packages` (changeset version): prints every version change and the new CHANGELOG entries;
// 3. `pnpm release --no-git-tag` (build + changeset publish) with the registry pointed at a local one on 127.0.0.1
//    (scripts/lib/local-registry.mjs), so `changeset publish` → `pnpm publish` → the registry protocol all run for real
//    and nothing leaves the machine;
// 4. checks what reached the registry: exactly the published packages (apps/web and other private packages never),
//    at the versions `changeset version` wrote, tagged `latest`, access public, internal dependencies rewritten from
//    `workspace:*` to those versions; each tarball's contents (scripts/lib/tarball.mjs: no tests, fixtures, source maps
//    or TypeScript sources; README, LICENSE and dist present); the built CLI and ONNX exporter report the new version.
//
// usage: node scripts/release-dry-run.mjs [--keep] [--list]   (--list prints every file of every tarball)
import { spawn } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createChecks } from './lib/checks.mjs';
import { startLocalRegistry } from './lib/local-registry.mjs';
import { checkTarball, formatKb, formatTable, readTarball } from './lib/tarball.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** What `pnpm release` must publish: every other workspace package is private. Update when a package is added. */
const EXPECTED_PUBLIC = ['@fmnist/classify', '@fmnist/cli', '@fmnist/data', '@fmnist/model', '@fmnist/onnx', '@fmnist/report'];
const keep = process.argv.includes('--keep');
const listFiles = process.argv.includes('--list');
const { check: step, setupFailed, finish } = createChecks('release-dry-run');

function cleanEnv(extra = {}) {
  const keepNpm = /^npm_config_(registry|cache|userconfig|globalconfig|proxy|https_proxy|noproxy|strict_ssl|cafile|ca|store_dir)$/i;
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(npm|pnpm)_/i.test(k) && !keepNpm.test(k)) continue;
    if (k === 'INIT_CWD') continue;
    env[k] = v;
  }
  return {
    ...env,
    ONNXRUNTIME_NODE_INSTALL: 'skip',
    TURBO_TELEMETRY_DISABLED: '1',
    TURBO_NO_UPDATE_NOTIFIER: '1',
    NO_COLOR: '1',
    ...extra,
  };
}

/**
 * Runs a command and resolves to its output; rejects with the output's tail when it fails. Asynchronous on purpose:
 * the local registry answers from this process, so the event loop must keep running while npm talks to it.
 */
function run(cmd, args, { cwd, env = cleanEnv(), timeoutMs = 900_000 } = {}) {
  return new Promise((resolvePromise, reject) => {
    // Its own process group, so that a timeout also stops what it started (turbo, changeset, npm).
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        child.kill('SIGTERM');
      }
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`\`${cmd} ${args.join(' ')}\` could not start in ${cwd}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolvePromise(output);
      const tail = output.trim().split('\n').slice(-60).join('\n');
      const why = signal ? `killed by ${signal}${signal === 'SIGTERM' ? ` after ${timeoutMs / 1000}s` : ''}` : `exit status ${code}`;
      reject(new Error(`\`${cmd} ${args.join(' ')}\` failed in ${cwd}: ${why}\n${tail}`));
    });
  });
}

// --- copying the workspace as git would check it out ----------------------------------------------------------------

/** A small .gitignore reader: names, paths, `*`/`**`/`?` globs, trailing `/` for folders (no `!` negations). */
function readIgnoreRules(dir, base) {
  const file = join(dir, '.gitignore');
  if (!existsSync(file)) return [];
  const rules = [];
  for (let line of readFileSync(file, 'utf8').split('\n')) {
    line = line.trim();
    if (!line || line.startsWith('#') || line.startsWith('!')) continue;
    const dirOnly = line.endsWith('/');
    if (dirOnly) line = line.slice(0, -1);
    const anchored = line.includes('/');
    line = line.replace(/^\//, '');
    const glob = line
      .split(/(\*\*\/?|\*|\?)/)
      .map((part) => ({ '**/': '(?:.*/)?', '**': '.*', '*': '[^/]*', '?': '[^/]' })[part] ?? part.replace(/[.+^${}()|[\]\\]/g, '\\$&'))
      .join('');
    rules.push({ base, anchored, dirOnly, re: new RegExp(`^${glob}$`) });
  }
  return rules;
}

function isIgnored(rel, isDir, rules) {
  return rules.some(({ base, anchored, dirOnly, re }) => {
    if (dirOnly && !isDir) return false;
    if (base && !rel.startsWith(`${base}/`)) return false;
    const local = base ? rel.slice(base.length + 1) : rel;
    return re.test(anchored ? local : local.split('/').pop());
  });
}

function copyWorkspace(from, to, rel = '', rules = []) {
  const here = rel ? join(from, rel) : from;
  const allRules = [...rules, ...readIgnoreRules(here, rel)];
  mkdirSync(join(to, rel), { recursive: true });
  let count = 0;
  for (const entry of readdirSync(here)) {
    if (entry === '.git' || entry === 'node_modules') continue;
    const childRel = rel ? `${rel}/${entry}` : entry;
    const stat = lstatSync(join(from, childRel));
    if (isIgnored(childRel, stat.isDirectory(), allRules)) continue;
    if (stat.isSymbolicLink()) symlinkSync(readlinkSync(join(from, childRel)), join(to, childRel));
    else if (stat.isDirectory()) count += copyWorkspace(from, to, childRel, allRules);
    else {
      copyFileSync(join(from, childRel), join(to, childRel));
      count++;
    }
  }
  return count;
}

/** name → { dir, version, private } for every workspace package (from pnpm-workspace.yaml's `dir/*` globs). */
function workspacePackages(root) {
  const yaml = readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8');
  const globs = [...yaml.matchAll(/^\s*-\s*['"]?([^'"\n]+?)\/\*['"]?\s*$/gm)].map((m) => m[1]);
  const found = new Map();
  for (const g of globs) {
    if (!existsSync(join(root, g))) continue;
    for (const d of readdirSync(join(root, g))) {
      const file = join(root, g, d, 'package.json');
      if (!existsSync(file)) continue;
      const pkg = JSON.parse(readFileSync(file, 'utf8'));
      found.set(pkg.name, { dir: `${g}/${d}`, version: pkg.version, private: pkg.private === true });
    }
  }
  return found;
}

// --- the dry run ------------------------------------------------------------------------------------------------------

const work = mkdtempSync(join(tmpdir(), 'fmnist-release-dry-run-'));
const copy = join(work, 'repo');
let registry;
console.log(`release-dry-run: temp copy ${copy}`);
try {
  await step(
    'copy the workspace (as git would check it out) and pnpm install --frozen-lockfile',
    async () => {
      const files = copyWorkspace(ROOT, copy);
      const out = await run('pnpm', ['install', '--frozen-lockfile', '--prefer-offline', '--reporter=append-only'], { cwd: copy });
      return `${files} files copied; ${
        out
          .trim()
          .split('\n')
          .filter((l) => /^(Packages|Done|Progress).*/.test(l))
          .slice(-1)[0] ?? 'installed'
      }`;
    },
    { fatal: true },
  );

  const before = workspacePackages(copy);
  const changesets = readdirSync(join(copy, '.changeset')).filter((f) => f.endsWith('.md') && f !== 'README.md');
  await step(
    `pnpm version-packages (changeset version) with ${changesets.length} pending changeset${changesets.length === 1 ? '' : 's'}`,
    async () => {
      await run('pnpm', ['version-packages'], { cwd: copy });
      const after = workspacePackages(copy);
      const rows = [['package', 'before', 'after', 'private']];
      const problems = [];
      for (const [name, pkg] of after) {
        const old = before.get(name)?.version ?? '—';
        rows.push([name, old, pkg.version, pkg.private ? 'yes' : '']);
        if (pkg.private && old !== pkg.version)
          problems.push(`${name} is private but its version changed (privatePackages.version should be false)`);
      }
      const left = readdirSync(join(copy, '.changeset')).filter((f) => f.endsWith('.md') && f !== 'README.md');
      if (left.length) problems.push(`changesets left after versioning: ${left.join(', ')}`);
      if (problems.length) throw new Error(problems.join('\n'));
      const changelogs = [];
      for (const [name, pkg] of after) {
        const file = join(copy, pkg.dir, 'CHANGELOG.md');
        if (pkg.private || !existsSync(file)) continue;
        const text = readFileSync(file, 'utf8');
        const latest = text.split(/\n(?=## )/)[1] ?? text;
        changelogs.push(`--- ${pkg.dir}/CHANGELOG.md (${name})\n${latest.trim()}`);
      }
      return `${formatTable(rows, ['l', 'l', 'l', 'l'])}\n${changelogs.join('\n') || '(no CHANGELOG.md written: no pending changesets)'}`;
    },
    { fatal: true },
  );

  registry = await startLocalRegistry();
  const npmrc = join(work, 'npmrc');
  writeFileSync(npmrc, `registry=${registry.url}/\n//127.0.0.1:${new URL(registry.url).port}/:_authToken=fmnist-dry-run\n`);
  const publishEnv = cleanEnv({ npm_config_registry: `${registry.url}/`, npm_config_userconfig: npmrc });
  await step(
    `pnpm release --no-git-tag (build + changeset publish) to the local registry ${registry.url}`,
    async () => {
      const out = await run('pnpm', ['release', '--no-git-tag'], { cwd: copy, env: publishEnv, timeoutMs: 600_000 });
      const lines = out.split('\n').filter((l) => /🦋|published|being published|not being published|error/i.test(l));
      return lines.map((l) => l.trim()).join('\n');
    },
    { fatal: true },
  );

  const after = workspacePackages(copy);
  await step('exactly the public packages were published, at the new versions, tagged latest, access public', () => {
    const names = [...registry.published.keys()].sort();
    const problems = [];
    if (JSON.stringify(names) !== JSON.stringify(EXPECTED_PUBLIC))
      problems.push(`published ${names.join(', ') || 'nothing'}; expected ${EXPECTED_PUBLIC.join(', ')}`);
    for (const [name, pkg] of after) if (pkg.private && registry.published.has(name)) problems.push(`${name} is private but was published`);
    for (const [name, [release, ...more]] of registry.published) {
      if (more.length) problems.push(`${name} was published ${more.length + 1} times`);
      const version = after.get(name)?.version;
      if (release.manifest.version !== version)
        problems.push(`${name}: published ${release.manifest.version}, package.json says ${version}`);
      if (release.distTags.latest !== version) problems.push(`${name}: dist-tag latest is ${release.distTags.latest}`);
      if (release.access !== 'public') problems.push(`${name}: access ${release.access}`);
    }
    if (problems.length) throw new Error(problems.join('\n'));
    return names.map((n) => `${n}@${registry.published.get(n)[0].manifest.version}`).join(', ');
  });

  await step('published manifests: no workspace: ranges; @fmnist/* dependencies point at the versions released together', () => {
    const problems = [];
    const lines = [];
    for (const [name, [release]] of registry.published) {
      const deps = { ...release.manifest.dependencies, ...release.manifest.peerDependencies, ...release.manifest.optionalDependencies };
      const internal = [];
      for (const [dep, range] of Object.entries(deps)) {
        if (/^(workspace|link|file|portal):/.test(range)) problems.push(`${name}: ${dep} is '${range}'`);
        if (dep.startsWith('@fmnist/')) {
          const version = after.get(dep)?.version;
          if (range.replace(/^[\^~]/, '') !== version)
            problems.push(`${name}: depends on ${dep}@${range}, but ${dep} is released as ${version}`);
          internal.push(`${dep}@${range}`);
        }
      }
      lines.push(`${name}: ${internal.join(', ') || 'no internal dependencies'}`);
    }
    if (problems.length) throw new Error(problems.join('\n'));
    return lines.join('\n');
  });

  await step('tarball contents: README, LICENSE, dist; no tests, fixtures, source maps or TypeScript sources', () => {
    const rows = [['package', 'version', 'files', 'packed', 'unpacked']];
    const problems = [];
    const listings = [];
    for (const name of [...registry.published.keys()].sort()) {
      const [release] = registry.published.get(name);
      const tarball = readTarball(release.tarball);
      problems.push(...checkTarball(tarball).map((p) => `${name}: ${p}`));
      rows.push([name, release.manifest.version, tarball.files.length, formatKb(tarball.packedBytes), formatKb(tarball.unpackedBytes)]);
      const files = tarball.files.map((f) => f.path).sort();
      listings.push(
        listFiles
          ? `${name}:\n${tarball.files
              .sort((a, b) => a.path.localeCompare(b.path))
              .map((f) => `  ${formatKb(f.size).padStart(9)}  ${f.path}`)
              .join('\n')}`
          : `${name}: ${files.join(' ')}`,
      );
    }
    if (problems.length) throw new Error(problems.join('\n'));
    return `${formatTable(rows, ['l', 'l', 'r', 'r', 'r'])}\n${listings.join('\n')}`;
  });

  await step('the built CLI and ONNX exporter report the released versions', async () => {
    const cli = after.get('@fmnist/cli');
    const printed = (await run(process.execPath, [join(copy, cli.dir, 'dist/bin.js'), '--version'], { cwd: copy })).trim();
    if (printed !== cli.version) throw new Error(`fmnist --version printed ${printed}, released ${cli.version}`);
    const onnx = after.get('@fmnist/onnx');
    const script = `import('@fmnist/onnx').then(async (o) => { const { createModel } = await import('@fmnist/model/core'); console.log(o.readOnnxMetadata(o.exportOnnx(createModel('patch-mlp'))).producerVersion); })`;
    const producer = (await run(process.execPath, ['--input-type=module', '-e', script], { cwd: join(copy, cli.dir) })).trim();
    if (producer !== onnx.version) throw new Error(`@fmnist/onnx writes producer_version ${producer}, released ${onnx.version}`);
    return `fmnist --version: ${printed}; ONNX producer_version: ${producer}`;
  });
} catch (err) {
  setupFailed(err);
} finally {
  await registry?.close();
  if (keep) console.log(`release-dry-run: kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}

finish();
