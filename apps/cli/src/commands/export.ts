/** `fmnist export <checkpoint> [-o model.onnx] [--int8]`. */
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
  json?: boolean;
}

export async function run(checkpointPath: string, flags: ExportFlags): Promise<void> {
  const dir = resolveCheckpointDir(checkpointPath);
  const runDir = dirname(resolve(dir));
  // The output's missing folders are created (as documented); everything else about the path is checked before the work.
  const output = checkOutputFile(flags.output ?? join(runDir, flags.int8 ? 'model.int8.onnx' : RUN_FILES.onnx), {
    flag: flags.output !== undefined ? '-o' : undefined,
    createParent: true,
  });
  const { loadCheckpoint } = await import('@fmnist/model');
  const ckpt = await loadCheckpoint(dir);
  const bytes = await exportCheckpointToFile(dir, output, { int8: flags.int8 });
  const last = ckpt.meta.history.at(-1);
  log(
    `${colors.green('✓')} ${relative(process.cwd(), output) || output}: ${(bytes / 1024).toFixed(1)} KiB, ${flags.int8 ? 'int8 weights' : 'float32'}, ${ckpt.meta.preset ?? 'custom config'} after ${ckpt.meta.epoch} epoch${ckpt.meta.epoch === 1 ? '' : 's'}${last?.testAccuracy !== undefined ? ` (test accuracy ${pct(last.testAccuracy)} at training)` : ''}`,
  );
  log(colors.dim(`  check it: ${shellCommand(['fmnist', 'eval', relative(process.cwd(), output) || output])}`));
  if (flags.json) {
    printJson({
      checkpoint: resolve(dir),
      output,
      bytes,
      quantization: flags.int8 ? 'int8' : 'none',
      preset: ckpt.meta.preset ?? null,
      epoch: ckpt.meta.epoch,
      testAccuracy: last?.testAccuracy ?? null,
    });
  }
}
