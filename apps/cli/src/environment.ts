/** What a run records about the machine and software it ran on. */

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/** Version of an installed package (looked up from the CLI, then from `@fmnist/model` for its own deps), or null. */
export function packageVersion(name: string): string | null {
  const direct = versionVia(require, name);
  if (direct !== null) return direct;
  try {
    return versionVia(createRequire(require.resolve('@fmnist/model')), name);
  } catch {
    return null;
  }
}

function versionVia(require: NodeJS.Require, name: string): string | null {
  try {
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    // Packages whose `exports` hide package.json: walk up from the entry point.
    try {
      let dir = dirname(require.resolve(name));
      for (let i = 0; i < 6; i++) {
        try {
          const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
          if (pkg.name === name) return pkg.version ?? null;
        } catch {}
        dir = dirname(dir);
      }
    } catch {}
    return null;
  }
}

/** The environment of this process: Node, OS, CPU, memory and the versions of the packages doing the work. */
export function describeEnvironment(): Record<string, unknown> {
  const cpu = cpus();
  return {
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    cpus: cpu.length,
    cpuModel: cpu[0]?.model?.trim() ?? null,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    packages: Object.fromEntries(
      ['@fmnist/cli', '@fmnist/data', '@fmnist/model', '@fmnist/onnx', '@tensorflow/tfjs', 'onnxruntime-node'].map((n) => [
        n,
        n === '@fmnist/cli' ? (require('../package.json') as { version: string }).version : packageVersion(n),
      ]),
    ),
  };
}
