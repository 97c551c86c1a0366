/** Finding checkpoints and models from what the user typed. */
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ExitError } from './errors';
import { checkInputPath } from './files';
import { shellCommand } from './shell';

/** Names inside a run directory. */
export const RUN_FILES = {
  config: 'config.json',
  checkpoint: 'checkpoint',
  onnx: 'model.onnx',
  metricsCsv: 'metrics.csv',
  metricsJsonl: 'metrics.jsonl',
  curvesSvg: 'curves.svg',
  curvesPng: 'curves.png',
  confusionSvg: 'confusion.svg',
  confusionPng: 'confusion.png',
  perClass: 'per-class.csv',
  report: 'report.html',
} as const;

/**
 * Resolves a run directory, a checkpoint directory or a `checkpoint.json` to the checkpoint directory.
 *
 * @param path - what the user passed
 * @returns the checkpoint directory
 * @throws ExitError naming the path and what was expected
 */
export function resolveCheckpointDir(path: string): string {
  const expected = 'a run directory (runs/NAME), its checkpoint directory, or checkpoint.json';
  if (checkInputPath(path, { allowDirectory: true, expected }) === 'file') {
    // Only a checkpoint.json names its checkpoint: another .json beside one (config.json, notes.json) is not it.
    if (basename(path) === 'checkpoint.json') return dirname(path);
    throw new ExitError(
      `${path}: not a checkpoint. Pass a run directory (runs/NAME), its checkpoint directory, or checkpoint.json${path.endsWith('.onnx') ? ' (an ONNX model cannot be exported again)' : ''}.`,
    );
  }
  for (const dir of [path, join(path, RUN_FILES.checkpoint)]) {
    const json = join(dir, 'checkpoint.json');
    if (existsSync(json)) {
      checkInputPath(json, { expected: 'a checkpoint.json file' });
      return dir;
    }
  }
  throw new ExitError(
    `${path}: no checkpoint.json here or in ${join(path, RUN_FILES.checkpoint)}. Train one with: ${shellCommand(['fmnist', 'train', '--out', path])}`,
  );
}

/** What a model path points to. */
export type ModelRef = { kind: 'onnx'; path: string } | { kind: 'checkpoint'; dir: string };

/**
 * Resolves a `.onnx` file, a run directory (its `model.onnx`, else its checkpoint) or a checkpoint.
 *
 * @param path - what the user passed
 * @param prefer - for a run directory holding both, which to use
 * @returns the model reference
 */
export function resolveModel(path: string, prefer: 'onnx' | 'checkpoint' = 'onnx'): ModelRef {
  const expected = 'a .onnx file, a run directory (runs/NAME) or a checkpoint directory';
  if (checkInputPath(path, { allowDirectory: true, expected }) === 'file') {
    if (path.endsWith('.json')) return { kind: 'checkpoint', dir: resolveCheckpointDir(path) };
    return { kind: 'onnx', path };
  }
  const onnx = join(path, RUN_FILES.onnx);
  if (prefer === 'onnx' && existsSync(onnx)) {
    checkInputPath(onnx, { expected: 'an .onnx file' });
    return { kind: 'onnx', path: onnx };
  }
  return { kind: 'checkpoint', dir: resolveCheckpointDir(path) };
}
