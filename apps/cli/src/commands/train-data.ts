/** `fmnist train`'s data: the dataset loaded and verified, the `--subset` drawn, and the batch size checked against it. */
import { type FashionMnistSplit, type LoadResult, permutation, subset } from '@fmnist/data';
import type { StoredCheckpointMeta } from '@fmnist/model';
import { loadData } from '../dataset';
import { UsageError } from '../errors';
import { checkSubsetAgainstCheckpoint, type RunSettings } from '../run-config';

/** The data a run trains and evaluates on. */
export interface TrainingData {
  data: LoadResult;
  /** The training split, or the run's `--subset` of it (drawn with the run's seed). */
  trainSet: FashionMnistSplit;
  testSet: FashionMnistSplit;
  /** The settings, with a rebuilt config's subset of the whole training set turned back into `null`. */
  settings: RunSettings;
}

/**
 * Loads the dataset (checksums verified) and the run's training subset.
 *
 * @param dir - `--dir`
 * @param run - the settings, whether they were rebuilt from the checkpoint, the checkpoint's meta and the files
 * @throws UsageError for a subset or batch size larger than the training images; RunError `E_RUN_MISMATCH` for a
 *   subset that disagrees with the checkpoint
 */
export async function loadTrainingData(
  dir: string | undefined,
  run: { settings: RunSettings; rebuilt: boolean; ckptMeta?: StoredCheckpointMeta; runFiles: { config: string; checkpoint: string } },
): Promise<TrainingData> {
  let { settings } = run;
  const data = await loadData({ dir, verify: true });
  let trainSet: FashionMnistSplit = data.train;
  // A rebuilt config records the checkpoint's number of examples; the whole training set means no subset.
  if (run.rebuilt && settings.subset === data.train.count) settings = { ...settings, subset: null };
  if (run.ckptMeta) checkSubsetAgainstCheckpoint(settings.subset, data.train.count, run.ckptMeta, run.runFiles);
  if (settings.subset !== null) {
    if (settings.subset > data.train.count)
      throw new UsageError(`--subset ${settings.subset} is larger than the ${data.train.count} training images.`);
    trainSet = subset(data.train, permutation(data.train.count, settings.seed).subarray(0, settings.subset));
  }
  if (settings.batchSize > trainSet.count)
    throw new UsageError(
      `--batch-size ${settings.batchSize} is larger than the ${trainSet.count} training images${settings.subset !== null ? ' of --subset' : ''}: use at most ${trainSet.count}.`,
    );
  return { data, trainSet, testSet: data.test, settings };
}
