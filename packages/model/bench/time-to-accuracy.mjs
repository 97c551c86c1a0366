#!/usr/bin/env node
// Exploration runs for time to accuracy (issue 19): train on a stratified 54k/6k split of the official training set,
// validate after every epoch (the choices are made on this), and evaluate the test set once at the end (reported, never
// used for a choice). Resumable: run the same command again after a kill and it continues from its step checkpoint.
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
const { train: fit, validation } = trainValidationSplit(data.train, { validationFraction: 0.1, seed: 1 });
const model = createModel(JSON.parse(configJson));
const checkpointDir = join(dir, 'ckpt');
log(`# ${new Date().toISOString()} config=${configJson} options=${optionsJson}`);
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
