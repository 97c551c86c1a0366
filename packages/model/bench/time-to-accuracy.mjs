#!/usr/bin/env node
// Exploration runs for time to accuracy (issue 19): train on a stratified split of the official training set (54k/6k,
// or VAL_FRACTION=0.16666666666666666 for the 50k/10k split of the later runs), validate after every epoch (the
// choices are made on this), and evaluate the test set once at the end (reported, never used for a choice). Resumable: run the same command again after a kill and it continues from its step checkpoint.
// Results go to docs/experiments/time-to-accuracy.md. Build first: pnpm --filter @fmnist/model build.
// usage: node bench/time-to-accuracy.mjs OUT_DIR 'CONFIG_JSON' 'TRAIN_OPTIONS_JSON'
//   e.g. node bench/time-to-accuracy.mjs /var/tmp/m7s '{"preset":"mixer-s","patchSize":7}' \
//        '{"epochs":15,"learningRate":3e-3,"lrSchedule":"cosine","weightDecay":0.05,"augment":{"shift":1,"flip":true}}'
import { appendFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadFashionMnist, trainValidationSplit } from '@fmnist/data';
import { createModel, evaluate, train } from '../dist/index.js';

const [dir, configJson, optionsJson] = process.argv.slice(2);
if (!dir || !configJson || !optionsJson) {
  console.error("usage: node bench/time-to-accuracy.mjs OUT_DIR 'CONFIG_JSON' 'TRAIN_OPTIONS_JSON'");
  process.exit(2);
}
mkdirSync(dir, { recursive: true });
const log = (line) => {
  appendFileSync(join(dir, 'log.txt'), `${line}\n`);
  console.log(line);
};
const data = await loadFashionMnist();
const validationFraction = Number(process.env.VAL_FRACTION ?? 0.1);
if (!(validationFraction > 0 && validationFraction < 1)) {
  console.error(`VAL_FRACTION must be a number between 0 and 1, got '${process.env.VAL_FRACTION}'`);
  process.exit(2);
}
const { train: fit, validation } = trainValidationSplit(data.train, { validationFraction, seed: 1 });
const model = createModel(JSON.parse(configJson));
const checkpointDir = join(dir, 'ckpt');
log(`# ${new Date().toISOString()} config=${configJson} options=${optionsJson} train=${fit.count} validation=${validation.count}`);
const t0 = Date.now();
const history = await train({
  model,
  data: { train: fit, test: validation },
  ...JSON.parse(optionsJson),
  checkpointDir,
  checkpointEvery: 100,
  resume: existsSync(join(checkpointDir, 'checkpoint.json')),
  callbacks: { onEpochEnd: (r) => log(JSON.stringify({ ...r, wallS: (Date.now() - t0) / 1000 })) },
});
const test = await evaluate(model, data.test);
log(`# done ${history.stopReason} test=${test.accuracy} loss=${test.loss} sessionWallS=${(Date.now() - t0) / 1000}`);
