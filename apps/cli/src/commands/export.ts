/** `fmnist export <checkpoint> [-o model.onnx] [--int8 | --fp16]`. */
import { dirname, join, relative, resolve } from 'node:path';
import { ExitError } from '../errors';
import { exportCheckpointToFile } from '../onnx-io';
import { pct } from '../parse';
import { RUN_FILES, resolveCheckpointDir } from '../paths';
import { colors, log, printJson } from '../ui';

interface ExportFlags {
  output?: string;
  int8?: boolean;
  fp16?: boolean;
  json?: boolean;
}

export async function run(checkpointPath: string, flags: ExportFlags): Promise<void> {
  const dir = resolveCheckpointDir(checkpointPath);
  const { loadCheckpoint } = await import('@fmnist/model');
  const ckpt = await loadCheckpoint(dir);
  const runDir = dirname(resolve(dir));
  const quantize = flags.int8 ? 'int8' : flags.fp16 ? 'fp16' : 'none';
  const output = resolve(flags.output ?? join(runDir, quantize === 'none' ? RUN_FILES.onnx : `model.${quantize}.onnx`));
  let bytes: number;
  try {
    bytes = await exportCheckpointToFile(dir, output, { quantize });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') {
      throw new ExitError(`cannot write ${output} (${code}). Choose another -o path.`, 1, { cause: err });
    }
    throw err;
  }
  const last = ckpt.meta.history.at(-1);
  log(
    `${colors.green('✓')} ${relative(process.cwd(), output) || output}: ${(bytes / 1024).toFixed(1)} KiB, ${quantize === 'none' ? 'float32' : `${quantize} weights`}, ${ckpt.meta.preset ?? 'custom config'} after ${ckpt.meta.epoch} epoch${ckpt.meta.epoch === 1 ? '' : 's'}${last?.testAccuracy !== undefined ? ` (test accuracy ${pct(last.testAccuracy)} at training)` : ''}`,
  );
  log(colors.dim(`  check it: fmnist eval ${relative(process.cwd(), output) || output}`));
  if (flags.json) {
    printJson({
      checkpoint: resolve(dir),
      output,
      bytes,
      quantization: quantize,
      preset: ckpt.meta.preset ?? null,
      epoch: ckpt.meta.epoch,
      testAccuracy: last?.testAccuracy ?? null,
    });
  }
}
