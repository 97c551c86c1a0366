import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTfjs, missingTfjsPackage, type TfjsModule } from './backend';
import { FmnistModelError } from './errors';

// A directory with no node_modules above it: what Node's two loaders say when a package is not installed there.
const empty = mkdtempSync(join(tmpdir(), 'fmnist-backend-'));
afterAll(() => rmSync(empty, { recursive: true, force: true }));

function realMissingError(specifier: string, loader: 'esm' | 'cjs'): { code: string; message: string } {
  const body =
    loader === 'esm'
      ? `import(${JSON.stringify(specifier)}).then(() => console.log('{}'), (e) => console.log(JSON.stringify({ code: e.code, message: e.message })));`
      : `try { require(${JSON.stringify(specifier)}); console.log('{}'); } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }`;
  const args = loader === 'esm' ? ['--input-type=module', '-e', body] : ['-e', body];
  return JSON.parse(execFileSync(process.execPath, args, { cwd: empty, encoding: 'utf8', env: { ...process.env, NODE_PATH: '' } }));
}

describe('missingTfjsPackage', () => {
  for (const loader of ['esm', 'cjs'] as const) {
    it(`names the missing optional peer from Node's ${loader} loader error`, () => {
      const tfjs = realMissingError('@tensorflow/tfjs', loader);
      expect(tfjs.code).toBe(loader === 'esm' ? 'ERR_MODULE_NOT_FOUND' : 'MODULE_NOT_FOUND');
      expect(missingTfjsPackage(tfjs)).toBe('@tensorflow/tfjs');
      expect(missingTfjsPackage(realMissingError('@tensorflow/tfjs-backend-wasm', loader))).toBe('@tensorflow/tfjs-backend-wasm');
      expect(missingTfjsPackage(realMissingError('@tensorflow/tfjs-node', loader))).toBe('@tensorflow/tfjs-node');
    });

    it(`ignores other missing packages (${loader}), even ones whose name starts like a peer's`, () => {
      expect(missingTfjsPackage(realMissingError('@tensorflow/tfjs-nonexistent', loader))).toBeNull();
      expect(missingTfjsPackage(realMissingError('left-pad-not-installed', loader))).toBeNull();
    });
  }

  it("recognises Vite's module-runner message (vitest, vite-node)", () => {
    const vite = new Error('Could not resolve "@tensorflow/tfjs-node" imported by "@fmnist/model".');
    expect(missingTfjsPackage(vite)).toBe('@tensorflow/tfjs-node');
    expect(missingTfjsPackage(new Error('Could not resolve "@tensorflow/tfjs-nodes" imported by "x".'))).toBeNull();
  });

  it('ignores errors that are not module-not-found', () => {
    expect(missingTfjsPackage(new Error("Cannot find package '@tensorflow/tfjs'"))).toBeNull();
    expect(missingTfjsPackage(Object.assign(new Error("'@tensorflow/tfjs' failed"), { code: 'EACCES' }))).toBeNull();
    expect(missingTfjsPackage(null)).toBeNull();
    expect(missingTfjsPackage('MODULE_NOT_FOUND')).toBeNull();
  });
});

describe('loadTfjs', () => {
  it('turns a missing @tensorflow/tfjs into E_BACKEND_UNAVAILABLE naming what to install', async () => {
    const missing = realMissingError('@tensorflow/tfjs', 'esm');
    const load = () => Promise.reject(Object.assign(new Error(missing.message), { code: missing.code }));
    const err = await loadTfjs('wasm', undefined, load).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FmnistModelError);
    expect(err).toMatchObject({ code: 'E_BACKEND_UNAVAILABLE' });
    expect((err as Error).message).toContain("backend 'wasm' needs @tensorflow/tfjs, which is not installed");
    expect((err as Error).message).toContain('npm install @tensorflow/tfjs @tensorflow/tfjs-backend-wasm');
    expect((err as Error).cause).toMatchObject({ code: 'ERR_MODULE_NOT_FOUND' });

    const cpu = await loadTfjs('cpu', undefined, load).catch((e: unknown) => e);
    expect((cpu as Error).message).toContain('`npm install @tensorflow/tfjs`');
    const auto = await loadTfjs('auto', 'the kernels support only 10 classes, this config has numClasses 5', load).catch((e: unknown) => e);
    expect((auto as Error).message).toContain(
      "backend 'auto' (the kernels support only 10 classes, this config has numClasses 5) needs @tensorflow/tfjs",
    );
  });

  it('passes any other failure through unchanged', async () => {
    const boom = new SyntaxError('Unexpected token');
    await expect(loadTfjs('cpu', undefined, () => Promise.reject(boom))).rejects.toBe(boom);
  });

  it('loads the tfjs entry when TensorFlow.js is installed (it is a devDependency here)', async () => {
    const mod: TfjsModule = await loadTfjs('cpu');
    expect(typeof mod.createTfjsEngine).toBe('function');
    expect(typeof mod.tf.tensor).toBe('function');
  });
});
