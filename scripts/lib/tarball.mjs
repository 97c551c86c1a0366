// Reads npm package tarballs (.tgz) and checks that they hold what users need and nothing else. Shared by
// scripts/pack-smoke.mjs and scripts/release-dry-run.mjs. Node built-ins only.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

/**
 * Files a tarball may contain, relative to its `package/` folder. Everything else fails the check: widen this list (and
 * say why in the pull request) to ship something new on purpose.
 */
export const ALLOWED_FILES = [/^package\.json$/, /^README\.md$/, /^LICENSE$/, /^CHANGELOG\.md$/, /^dist\/.+/];

/** Files that must never ship, even inside an allowed folder: tests, fixtures, source maps, TypeScript sources. */
export const FORBIDDEN_FILES = [
  { pattern: /\.map$/, why: 'a source map (tsup `sourcemap` must stay false for published builds)' },
  { pattern: /\.(test|spec)(-d)?\.[cm]?[jt]sx?$/, why: 'a test file' },
  { pattern: /(^|\/)(__tests__|__fixtures__|fixtures|test|tests)\//, why: 'a test or fixture folder' },
  { pattern: /(^|\/)test-(fixtures|helpers|utils)\.[cm]?[jt]s$/, why: 'a test helper' },
  { pattern: /(?<!\.d)\.[cm]?tsx?$/, why: 'a TypeScript source (only .d.ts / .d.cts declarations ship)' },
  { pattern: /\.tgz$/, why: 'a tarball inside the tarball' },
];

/** What users need in every published package. */
const REQUIRED_FILES = ['package.json', 'README.md', 'LICENSE'];

/**
 * Lists the files of a gzipped tar (the format `npm pack` / `pnpm pack` write).
 * @param {string | Uint8Array} tgz - path or bytes
 * @returns {{ files: { path: string, size: number, data: Buffer }[], packedBytes: number, unpackedBytes: number }}
 */
export function readTarball(tgz) {
  const packed = typeof tgz === 'string' ? readFileSync(tgz) : Buffer.from(tgz);
  const tar = gunzipSync(packed);
  const files = [];
  let longName = null;
  for (let off = 0; off + 512 <= tar.length; ) {
    const header = tar.subarray(off, off + 512);
    if (header.every((b) => b === 0)) break;
    const field = (start, len) =>
      header
        .subarray(start, start + len)
        .toString('utf8')
        .replace(/\0.*$/s, '');
    const size = Number.parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1) || '0';
    const prefix = field(345, 155);
    let name = longName ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
    longName = null;
    const body = tar.subarray(off + 512, off + 512 + size);
    off += 512 + Math.ceil(size / 512) * 512;
    if (type === 'L') {
      longName = body.toString('utf8').replace(/\0.*$/s, '');
      continue;
    }
    if (type === 'x' || type === 'g') {
      const path = /\d+ path=([^\n]*)\n/.exec(body.toString('utf8'));
      if (path) longName = path[1];
      continue;
    }
    if (type !== '0' && type !== '\0') continue; // folders, links: npm tarballs have none that matter
    name = name.replace(/^[^/]+\//, ''); // npm tarballs put everything under `package/`
    files.push({ path: name, size, data: Buffer.from(body) });
  }
  return { files, packedBytes: packed.length, unpackedBytes: files.reduce((sum, f) => sum + f.size, 0) };
}

/**
 * Checks a package tarball: only allowed files, nothing forbidden, README + LICENSE + dist present, every `exports`,
 * `main`, `module`, `types` and `bin` target present, bins with a shebang, no `workspace:` ranges left in the
 * manifest, no `sourceMappingURL` pointing at a file that does not ship, no test framework in the code.
 * @param {ReturnType<typeof readTarball>} tarball
 * @returns {string[]} the problems found (empty when the tarball is fine)
 */
export function checkTarball(tarball) {
  const problems = [];
  const byPath = new Map(tarball.files.map((f) => [f.path, f]));
  for (const file of REQUIRED_FILES) if (!byPath.has(file)) problems.push(`${file} is missing`);
  if (![...byPath.keys()].some((p) => p.startsWith('dist/'))) problems.push('dist/ is missing (was the package built?)');
  for (const { path } of tarball.files) {
    if (!ALLOWED_FILES.some((re) => re.test(path))) problems.push(`${path} should not be published (not in ALLOWED_FILES)`);
    for (const { pattern, why } of FORBIDDEN_FILES) if (pattern.test(path)) problems.push(`${path} is ${why}`);
  }

  const manifestFile = byPath.get('package.json');
  if (!manifestFile) return problems;
  const manifest = JSON.parse(manifestFile.data.toString('utf8'));
  const targets = new Set();
  const collect = (value) => {
    if (typeof value === 'string') targets.add(value);
    else if (value && typeof value === 'object') for (const v of Object.values(value)) collect(v);
  };
  collect(manifest.exports);
  collect(manifest.bin);
  for (const field of ['main', 'module', 'types', 'typings']) collect(manifest[field]);
  for (const target of targets) {
    const path = target.replace(/^\.\//, '');
    if (!byPath.has(path)) problems.push(`package.json points at ${target}, which is not in the tarball`);
  }
  const bins = typeof manifest.bin === 'string' ? [manifest.bin] : Object.values(manifest.bin ?? {});
  for (const bin of bins) {
    const file = byPath.get(bin.replace(/^\.\//, ''));
    if (file && !file.data.subarray(0, 2).equals(Buffer.from('#!'))) problems.push(`bin ${bin} does not start with a #! line`);
  }
  for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
    for (const [name, range] of Object.entries(manifest[field] ?? {})) {
      if (/^(workspace|link|file|portal):/.test(range)) problems.push(`${field}.${name} is '${range}': pack with pnpm, which rewrites it`);
    }
  }
  for (const { path, data } of tarball.files) {
    if (!/\.[cm]?js$/.test(path)) continue;
    const text = data.toString('utf8');
    for (const m of text.matchAll(/[#@] sourceMappingURL=(?!data:)(\S+)/g)) {
      const mapPath = new URL(m[1], `file:///${path}`).pathname.slice(1);
      if (!byPath.has(mapPath)) problems.push(`${path} refers to ${m[1]}, which is not in the tarball`);
    }
    if (/(from\s*|require\(\s*|import\(\s*)["'](vitest|@vitest\/[^"']+|jest|mocha)["']/.test(text))
      problems.push(`${path} imports a test framework`);
  }
  return problems;
}

/** `12.3 kB` (1 kB = 1000 bytes, as npm prints sizes). */
export function formatKb(bytes) {
  return `${(bytes / 1000).toFixed(1)} kB`;
}

/**
 * A plain-text table.
 * @param {(string | number)[][]} rows - the first row is the header
 * @param {('l' | 'r')[]} align
 */
export function formatTable(rows, align) {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => (align[c] === 'r' ? String(cell).padStart(widths[c]) : String(cell).padEnd(widths[c])))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
