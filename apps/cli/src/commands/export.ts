/** `fmnist export <checkpoint> [-o model.onnx] [--int8 | --fp16]`. */
import { dirname, join, relative, resolve } from 'node:path';
import { checkOutputFile } from '../files';
import { exportCheckpointToFile } from '../onnx-io';
import { pct } from '../parse';
import { RUN_FILES, resolveCheckpointDir } from '../paths';
import { shellCommand } from '../shell';
import { colors, log, printJson } from '../ui';

interface ExportFlags {
  output?: string;
  int8?: boolean;
  fp16?: boolean;
  json?: boolean;
}

export async function run(checkpointPath: string, flags: ExportFlags): Promise<void> {
  const dir = resolveCheckpointDir(checkpointPath);
  const runDir = dirname(resolve(dir));
  // The output's missing folders are created (as documented); everything else about the path is checked before the work.
  const quantize = flags.int8 ? 'int8' : flags.fp16 ? 'fp16' : 'none';
  const output = checkOutputFile(flags.output ?? join(runDir, quantize === 'none' ? RUN_FILES.onnx : `model.${quantize}.onnx`), {
    flag: flags.output !== undefined ? '-o' : undefined,
    createParent: true,
  });
  const { loadCheckpoint } = await import('@fmnist/model');
  const ckpt = await loadCheckpoint(dir);
  const bytes = await exportCheckpointToFile(dir, output, { quantize });
  const last = ckpt.meta.history.at(-1);
  log(
    `${colors.green('✓')} ${relative(process.cwd(), output) || output}: ${(bytes / 1024).toFixed(1)} KiB, ${quantize === 'none' ? 'float32' : `${quantize} weights`}, ${ckpt.meta.preset ?? 'custom config'} after ${ckpt.meta.epoch} epoch${ckpt.meta.epoch === 1 ? '' : 's'}${last?.testAccuracy !== undefined ? ` (test accuracy ${pct(last.testAccuracy)} at training)` : ''}`,
  );
  log(colors.dim(`  check it: ${shellCommand(['fmnist', 'eval', relative(process.cwd(), output) || output])}`));
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
