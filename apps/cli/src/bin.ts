/**
 * `fmnist`: train the Fashion-MNIST patch-MLP, evaluate it, export it to ONNX, predict, benchmark. Each command lives in
 * its own lazily imported file under `commands/`, so `fmnist --help` starts in milliseconds.
 */
import { setFlagsFromString } from 'node:v8';
import { Command, CommanderError, Option } from 'commander';
import pkg from '../package.json';
import { EXIT, ExitError } from './errors';
import { describeFsError } from './files';
import {
  batchSizeOption,
  benchSecondsOption,
  epochsOption,
  evalEveryOption,
  labelSmoothingOption,
  learningRateOption,
  momentumOption,
  parseAugment,
  parseDuration,
  positiveInt,
  previewOption,
  seedOption,
  subsetOption,
  testIndexOption,
  threadsOption,
  weightDecayOption,
} from './parse';
import { PRESET_HELP, presetOption, recipeHelp } from './recipes';
import { colors, outputWentAway, sanitizeForTerminal } from './ui';

// Node 20 has WebAssembly relaxed SIMD only behind a V8 flag (Node 22 and later have it on). This process is ours, and
// no module is compiled yet: turn it on, so the kernels pick their fused multiply-add build, ≈ 5–8 % faster per
// training step (FMNIST_WASM_SIMD=simd keeps the baseline build).
if (process.versions.node.startsWith('20.') && process.env.FMNIST_WASM_SIMD !== 'simd') {
  setFlagsFromString('--experimental-wasm-relaxed-simd');
}

const BACKENDS = ['auto', 'kernels', 'tensorflow', 'wasm', 'cpu'] as const;

const examples = (lines: [string, string][]): string => {
  const width = Math.max(...lines.map(([cmd]) => cmd.length));
  return `\nExamples:\n${lines.map(([cmd, what]) => `  $ ${cmd.padEnd(width)}  # ${what}`).join('\n')}\n`;
};

/** Runs a command's module, loaded only when that command is used. */
const lazy =
  <A extends unknown[]>(load: () => Promise<{ run: (...args: A) => Promise<void> }>) =>
  async (...args: A): Promise<void> => {
    const { run } = await load();
    await run(...args);
  };

function createProgram(): Command {
  const program = new Command('fmnist');
  program
    .description('Fashion-MNIST from the command line: train the patch-MLP, evaluate, export to ONNX, predict, benchmark.')
    .version(pkg.version, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .option('--verbose', 'show stack traces and extra detail')
    .showHelpAfterError(colors.dim('(add --help for usage)'))
    .showSuggestionAfterError(true)
    .exitOverride()
    // One style for every error: commander's `error: …` is printed as `fmnist: …`, like the commands' own errors.
    .configureOutput({ outputError: (str, write) => write(`${colors.red('fmnist:')} ${str.replace(/^error: /, '')}`) })
    .addHelpText(
      'after',
      examples([
        ['fmnist train', 'train the default preset; report + model.onnx in runs/'],
        ['fmnist eval runs/NAME/model.onnx', 'accuracy, per-class accuracy, confusion matrix'],
        ['fmnist predict shoe.jpg', 'classify your own photo with the bundled model'],
        ['fmnist <command> --help', 'options and examples of a command'],
      ]),
    );

  program
    .command('data')
    .summary('where the dataset came from, counts per class, image preview')
    .description('Show where the dataset came from (source, path, checksums), its counts and per-class counts.')
    .option('--dir <dir>', 'folder holding the four Fashion-MNIST files (default: $FMNIST_DATA_DIR, cache, system copy, download)')
    .option('--preview <n>', 'write a PNG grid of N labelled test images (at most 1000) and print a few as terminal art', previewOption)
    .option('--preview-out <file>', 'where the preview PNG goes (overwritten if it exists; its folder must exist)', 'fmnist-preview.png')
    .option('--split <split>', 'split to preview: train or test', 'test')
    .option('--no-verify', 'skip computing the SHA-256 of local copies (saves about 0.3 s)')
    .option('--no-download', 'fail instead of downloading when no local copy exists')
    .option('--json', 'print one JSON document on stdout')
    .addHelpText(
      'after',
      examples([
        ['fmnist data', 'where the data is and what it holds'],
        ['fmnist data --preview 40', 'fmnist-preview.png with 40 labelled images'],
        ['fmnist data --json | jq .test.perClass', 'machine-readable'],
      ]),
    )
    .action(lazy(() => import('./commands/data')));

  program
    .command('train')
    .summary('train with live progress; writes report, metrics, checkpoint, model.onnx')
    .description(
      'Train a model with a live progress bar; writes a run directory with config.json, metrics, curves, confusion matrix, report.html, checkpoint and model.onnx.',
    )
    .addOption(new Option('--preset <name>', `model preset: ${PRESET_HELP}`).argParser(presetOption).default('patch-mlp'))
    .option(
      '--epochs <n>',
      `epochs to train; a resumed run continues up to N (default: the preset's — ${recipeHelp('epochs')})`,
      epochsOption,
    )
    .option('--batch-size <n>', 'images per step, 1 to 1024 and at most the training images', batchSizeOption, 256)
    .option(
      '--lr <rate>',
      `learning rate, the peak with a schedule (default: the preset's — ${recipeHelp('learningRate')})`,
      learningRateOption,
    )
    .addOption(new Option('--optimizer <name>', "optimizer: adam (PyTorch's Adam/AdamW) or sgd (torch.optim.SGD)").choices(['adam', 'sgd']))
    .option('--momentum <m>', 'SGD momentum, 0 ≤ m < 1 (needs --optimizer sgd; default 0.9)', momentumOption)
    .option(
      '--label-smoothing <e>',
      `label smoothing of the training loss, 0 ≤ ε < 1, as PyTorch's CrossEntropyLoss (default: the preset's — ${recipeHelp('labelSmoothing')})`,
      labelSmoothingOption,
    )
    .addOption(
      new Option('--lr-schedule <name>', `learning-rate schedule (default: the preset's — ${recipeHelp('lrSchedule')})`).choices([
        'constant',
        'cosine',
      ]),
    )
    .option(
      '--weight-decay <wd>',
      `weight decay on Linear weights: decoupled (AdamW) with adam, coupled (L2) with sgd (default: the preset's — ${recipeHelp('weightDecay')})`,
      weightDecayOption,
    )
    .option(
      '--augment <spec>',
      `training augmentation: none, or a list of flip, shift=N and erase=P (default: the preset's — ${recipeHelp('augment')})`,
      parseAugment,
    )
    .option('--seed <n>', 'seed of the initial weights and the batch order (0 to 2³²−1)', seedOption, 0)
    .addOption(new Option('--backend <name>', 'compute backend').choices(BACKENDS).default('auto'))
    .option('--threads <n>', 'worker threads for the kernels backend, at most max(CPU cores, 64) (default: CPU cores)', threadsOption)
    .option('--out <dir>', 'run directory: new, empty, or holding this run (default: runs/<preset>-<date>-<time>)')
    .option('--resume [dir]', 'continue the run in DIR (or --out) from its last checkpoint')
    .option('--time-budget <duration>', 'stop cleanly after this long, e.g. 90s, 10m, 1h30m', parseDuration)
    .option('--checkpoint-every <steps>', 'also checkpoint every N steps within an epoch (default: after every epoch)', positiveInt)
    .option(
      '--eval-every <n>',
      `evaluate on the test set every N epochs, and after the last (default: the preset's — ${recipeHelp('evalEvery')})`,
      evalEveryOption,
    )
    .option('--subset <n>', 'train on N randomly chosen training images (seeded) for quick runs', subsetOption)
    .option('--dir <dir>', 'folder holding the four Fashion-MNIST files')
    .option('--no-export', 'skip the ONNX export at the end')
    .option('--no-report', 'skip charts and report.html at the end')
    .option('--json', 'print the run summary as one JSON document on stdout')
    .addHelpText(
      'after',
      examples([
        ['fmnist train', 'patch-mlp, 3 epochs: ≈ 82 % test accuracy in 2–3 minutes on 2 cores'],
        ['fmnist train --preset coursework --epochs 2000 --out runs/coursework', "the coursework's run, literally"],
        ['fmnist train --preset mixer-s7', 'an MLP-Mixer on 7×7 patches, 14 epochs with its recipe: ≈ 90 % in ≈ 10 min on 2 cores'],
        ['fmnist train --preset mixer-s7-long', 'the same model, 50 epochs with Random Erasing: ≈ 91 % in ≈ 30 min on 2 cores'],
        ['fmnist train --preset mixer-s', 'an MLP-Mixer, 30 epochs with its recipe: ≈ 90.4 % in ≈ 40 min on 2 cores'],
        ['fmnist train --preset mixer-l', 'the 8-block Mixer, 30 epochs: ≈ 91.1 % in ≈ 2 h 40 min on 2 cores'],
        ['fmnist train --time-budget 10m --epochs 100', 'as many epochs as fit in 10 minutes'],
        ['fmnist train --optimizer sgd --momentum 0.9 --lr 0.05', 'SGD with momentum instead of Adam'],
        ['fmnist train --resume runs/coursework', 'continue after Ctrl-C or a crash'],
        ['fmnist train --subset 5000 --epochs 1 --no-export', 'a quick smoke run'],
      ]),
    )
    .action(lazy(() => import('./commands/train')));

  program
    .command('eval')
    .summary('accuracy, per-class accuracy and confusion matrix of a model')
    .description('Evaluate a checkpoint or an ONNX model on the test set: accuracy, loss, per-class accuracy, confusion matrix.')
    .argument('<model>', 'a run directory, a checkpoint directory or checkpoint.json, or a .onnx file')
    .option('--svg <file>', 'also write the confusion matrix as SVG')
    .option('--png <file>', 'also write the confusion matrix as PNG')
    .addOption(new Option('--backend <name>', 'compute backend for checkpoints').choices(BACKENDS).default('auto'))
    .addOption(
      new Option('--tta <kind>', 'test-time augmentation: flip = average the logits of each image and its mirror image (2× the time)')
        .choices(['none', 'flip'])
        .default('none'),
    )
    .option('--dir <dir>', 'folder holding the four Fashion-MNIST files')
    .option('--force', '--tta flip even on a model trained without flip augmentation (refused otherwise)')
    .option('--json', 'print one JSON document on stdout')
    .addHelpText(
      'after',
      examples([
        ['fmnist eval runs/NAME/model.onnx', 'the exported model, through onnxruntime-node'],
        ['fmnist eval runs/NAME/model.onnx --tta flip', 'with flip test-time augmentation'],
        ['fmnist eval runs/NAME/checkpoint', 'the checkpoint, on the training engine'],
        ['fmnist eval runs/NAME/model.onnx --svg confusion.svg', 'also draw the confusion matrix'],
      ]),
    )
    .action(lazy(() => import('./commands/eval')));

  program
    .command('export')
    .summary('checkpoint → ONNX (float32, int8 or fp16)')
    .description('Export a checkpoint to ONNX (float32, int8-quantised weights, or float16 weights).')
    .argument('<checkpoint>', 'a run directory, a checkpoint directory or its checkpoint.json')
    .option(
      '-o, --output <file>',
      'output file (default: model.onnx, model.int8.onnx with --int8 or model.fp16.onnx with --fp16, next to the run)',
    )
    .option('--int8', 'quantise the weights to int8 (about 4× smaller)')
    .addOption(new Option('--fp16', 'store the weights as float16 (about 2× smaller, computed in float32)').conflicts('int8'))
    .option('--json', 'print one JSON document on stdout')
    .addHelpText(
      'after',
      examples([
        ['fmnist export runs/NAME', 'writes runs/NAME/model.onnx'],
        ['fmnist export runs/NAME/checkpoint -o web/model.onnx --int8', 'a small int8 model for the browser'],
        ['fmnist export runs/NAME --fp16', 'writes runs/NAME/model.fp16.onnx, float16 weights'],
      ]),
    )
    .action(lazy(() => import('./commands/export')));

  program
    .command('predict')
    .summary('classify images (or test images) with the bundled model or an ONNX model')
    .description(
      'Classify images: class and top-3 probabilities, on stdout. Without a model argument the trained model bundled with @fmnist/classify is used; ' +
        'the first argument is the model when it is a .onnx file or a directory (a run directory holding model.onnx). ' +
        'Any size or colour is converted as the model expects: grayscale, cropped to the garment, 28×28, light-on-dark (inverted when the border is light).',
    )
    .argument('[model]', 'a .onnx file or a run directory holding model.onnx (optional: else the first image)')
    .argument('[images...]', 'PNG, JPEG, WebP, GIF, TIFF or AVIF files')
    .option('--test-index <n>', 'classify test-set image N (repeat the flag for several)', (v, prev: number[] | undefined) => [
      ...(prev ?? []),
      testIndexOption(v),
    ])
    .option('--invert', 'always invert the images (a dark object on a light background); default: when the border is light')
    .option('--no-invert', 'never invert the images')
    .option('--auto-invert', 'invert when the border is light (the default; kept for scripts)')
    .option('--no-crop', 'fit the whole picture into 28×28 instead of cropping to the garment first')
    .option('--top <k>', 'how many classes to list', positiveInt, 3)
    .option('--show', 'print each image as the model sees it (28×28) in the terminal')
    .option('--dir <dir>', 'folder holding the four Fashion-MNIST files (for --test-index)')
    .option('--json', 'print one JSON document on stdout (the human-readable lines go to stderr)')
    .addHelpText(
      'after',
      examples([
        ['fmnist predict shoe.jpg', 'a photo, with the bundled model (no training needed)'],
        ['fmnist predict shoe.jpg > result.txt', 'the result is on stdout'],
        ['fmnist predict --test-index 0', 'the first test image (an ankle boot)'],
        ['fmnist predict runs/NAME/model.onnx photo.jpg', 'with your own trained model'],
        ['fmnist predict model.onnx a.png b.png --json', 'machine-readable'],
      ]),
    )
    .action(lazy(() => import('./commands/predict')));

  program
    .command('bench')
    .summary('training and inference images/s per backend')
    .description(
      'Measure training images/s on each available backend and onnxruntime-node inference images/s, for one preset or several ' +
        '(then each row also shows its speed relative to patch-mlp from the same run).',
    )
    .option('--preset <names>', `model preset, a comma-separated list, or all (${PRESET_HELP})`, 'patch-mlp')
    .option('--seconds <s>', 'time per measurement (at most 3600)', benchSecondsOption, 3)
    .option('--batch-size <n>', 'training batch size, 1 to 1024', batchSizeOption, 256)
    .option('--threads <n>', 'worker threads for the kernels backend, at most max(CPU cores, 64)', threadsOption)
    .addOption(new Option('--backends <list>', 'comma-separated backends to try (default: all)'))
    .option('--json', 'print one JSON document on stdout')
    .addHelpText(
      'after',
      examples([
        ['fmnist bench', 'all backends, 3 s each'],
        ['fmnist bench --backends kernels,wasm --seconds 10', 'longer, two backends'],
        ['fmnist bench --preset all --backends kernels', 'every preset beside patch-mlp, kernels only'],
      ]),
    )
    .action(lazy(() => import('./commands/bench')));

  return program;
}

const verbose = (): boolean => process.argv.includes('--verbose');

function report(err: unknown): void {
  if (err instanceof CommanderError) {
    // Commander already printed the message (and the help hint). Help and version are successes.
    // Help and version are successes; help shown because no command was given is a usage error.
    const ok =
      err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || (err.code === 'commander.help' && err.exitCode === 0);
    process.exitCode = ok ? EXIT.ok : EXIT.usage;
    return;
  }
  if (err instanceof ExitError) {
    process.stderr.write(`${colors.red('fmnist:')} ${sanitizeForTerminal(err.message)}\n`);
    if (err.code === EXIT.usage) process.stderr.write(colors.dim('(add --help for usage)\n'));
    if (verbose() && err.stack) process.stderr.write(`${sanitizeForTerminal(err.stack)}\n`);
    process.exitCode = err.code;
    return;
  }
  const e = err as { name?: string; code?: unknown; message?: string; stack?: string };
  // Errors of @fmnist/* packages carry a stable code and a message that names the problem and the fix (checked first:
  // a package error that wraps a file-system error says more than the bare errno).
  if (typeof e?.code === 'string' && /^E_[A-Z_]+$/.test(e.code) && typeof e.message === 'string') {
    process.stderr.write(`${colors.red('fmnist:')} ${sanitizeForTerminal(e.message)} ${colors.dim(`[${e.code}]`)}\n`);
    if (verbose() && e.stack) process.stderr.write(`${sanitizeForTerminal(e.stack)}\n`);
    process.exitCode = EXIT.failure;
    return;
  }
  // A file-system error (missing file, no permission, read-only or full disk…) is the user's machine, not a bug.
  const fsMessage = describeFsError(err);
  if (fsMessage) {
    process.stderr.write(`${colors.red('fmnist:')} ${sanitizeForTerminal(fsMessage)}\n`);
    if (verbose() && e.stack) process.stderr.write(`${sanitizeForTerminal(e.stack)}\n`);
    process.exitCode = EXIT.failure;
    return;
  }
  process.stderr.write(`${colors.red('fmnist: unexpected error:')} ${sanitizeForTerminal(e?.stack ?? String(err))}\n`);
  process.stderr.write('This is a bug; please report it with the command you ran.\n');
  process.exitCode = EXIT.failure;
}

// `fmnist data --json | head -1` closes the pipe early: stop quietly with the exit code so far, as Unix tools do,
// instead of an unhandled EPIPE stack trace. A command with work in flight (`fmnist train | head`) registers a handler
// with whenOutputGone: training then stops like at Ctrl-C (a checkpoint, the run marked stopped, exit status 130)
// rather than being cut off with status 0 and the run still marked running.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    // After EPIPE the stream is destroyed, and a later write fails with ERR_STREAM_DESTROYED: the same reader gone.
    if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') {
      if (outputWentAway()) return;
    } else {
      // Any other write failure: report it on stderr while that still works.
      if (stream === process.stdout) report(err);
      else process.exitCode = EXIT.failure;
    }
    process.exit();
  });
}

createProgram().parseAsync(process.argv).catch(report);
