/** The default entry must bundle for browsers with no Node built-ins. */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

it('the browser entry bundles with platform=browser and contains no Node built-in', async () => {
  const result = await build({
    stdin: {
      contents: `import { loadFashionMnist, parseIdx, batches, patchify } from '@fmnist/data'; console.log(loadFashionMnist, parseIdx, batches, patchify);`,
      resolveDir: root,
    },
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    logLevel: 'silent',
    alias: { '@fmnist/data': root },
  });
  const code = result.outputFiles[0]?.text ?? '';
  expect(code.length).toBeGreaterThan(1000);
  expect(code).toContain('DecompressionStream');
  expect(code).not.toMatch(/node:|require\(["'](fs|zlib|crypto|os|path|http)["']\)|createReadStream|homedir/);
});
