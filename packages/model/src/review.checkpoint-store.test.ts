// Review of the checkpoint stores (checkpoint-store.ts, checkpoint-node.ts): hostile file maps for checkpointFromFiles,
// a FIFO or odd entries in a checkpoint directory for directoryCheckpointStore, an empty checkpointDir.
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { directoryCheckpointStore, loadCheckpoint } from './checkpoint-node';
import { checkpointFiles, checkpointFromFiles, memoryCheckpointStore } from './checkpoint-store';
import { synthetic } from './fixtures/synthetic';
import { createModel } from './model';
import { train } from './train';

const data = { train: synthetic(100, 1) };
let files: [string, Uint8Array][];
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fmnist-review-ckpt-'));
  const store = memoryCheckpointStore();
  await train({ model: createModel('patch-mlp'), data, epochs: 1, batchSize: 50, checkpointStore: store, threads: 1 });
  files = checkpointFiles((await store.load())!);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('checkpointFromFiles with hostile maps (review)', () => {
  it('a value that is not bytes (a string, an ArrayBuffer, a number[]) is E_CHECKPOINT_CORRUPT naming the file', async () => {
    for (const bad of ['{"format":"fmnist-checkpoint"}', new ArrayBuffer(8), [1, 2, 3]]) {
      const map = { ...Object.fromEntries(files), 'checkpoint.json': bad } as unknown as Record<string, Uint8Array>;
      await expect(checkpointFromFiles(map, 'upload')).rejects.toMatchObject({
        code: 'E_CHECKPOINT_CORRUPT',
        message: expect.stringMatching(/^upload\/checkpoint\.json: /),
      });
    }
    const weights = { ...Object.fromEntries(files), 'model.step2.safetensors': 'not bytes' } as unknown as Record<string, Uint8Array>;
    await expect(checkpointFromFiles(weights, 'upload')).rejects.toMatchObject({
      code: 'E_CHECKPOINT_CORRUPT',
      message: expect.stringMatching(/^upload\/model\.step2\.safetensors: /),
    });
  });

  it('an own "__proto__" entry or a file name with a slash is not read (the schema refuses the name)', async () => {
    const map = JSON.parse('{"__proto__": 1}') as Record<string, Uint8Array>;
    for (const [k, v] of files) map[k] = v;
    const meta = JSON.parse(new TextDecoder().decode(map['checkpoint.json']));
    meta.files.weights = '../model.safetensors';
    map['checkpoint.json'] = new TextEncoder().encode(JSON.stringify(meta));
    await expect(checkpointFromFiles(map, 'upload')).rejects.toMatchObject({
      code: 'E_CHECKPOINT_CORRUPT',
      message: expect.stringContaining("field 'files.weights'"),
    });
  });
});

describe('directoryCheckpointStore (review)', () => {
  it('does not block on a FIFO named checkpoint.json: E_CHECKPOINT_CORRUPT, as loadCheckpoint says', async (ctx) => {
    if (process.platform === 'win32') ctx.skip();
    const fifoDir = join(dir, 'fifo');
    await mkdir(fifoDir);
    execFileSync('mkfifo', [join(fifoDir, 'checkpoint.json')]);
    await expect(directoryCheckpointStore(fifoDir).load()).rejects.toMatchObject({
      code: 'E_CHECKPOINT_CORRUPT',
      message: expect.stringContaining('not a regular file'),
    });
    await expect(loadCheckpoint(fifoDir)).rejects.toMatchObject({ code: 'E_CHECKPOINT_CORRUPT' });
  });

  it('an empty checkpointDir is refused before training, not after an epoch with a raw file-system error', async () => {
    const before = await readdir(process.cwd());
    await expect(train({ model: createModel('patch-mlp'), data, epochs: 1, batchSize: 50, threads: 1, checkpointDir: '' })).rejects.toThrow(
      /'checkpointDir'/,
    );
    expect(await readdir(process.cwd())).toEqual(before);
  });

  it('a checkpoint directory that is a file: resume is a checkpoint error, not a fresh start', async () => {
    const file = join(dir, 'not-a-dir');
    await writeFile(file, 'x');
    await expect(
      train({ model: createModel('patch-mlp'), data, epochs: 1, batchSize: 50, threads: 1, checkpointDir: file, resume: true }),
    ).rejects.toMatchObject({ code: expect.stringMatching(/^E_CHECKPOINT_/) });
  });
});

describe('directoryCheckpointStore.load errors other than "absent" (review)', () => {
  it('a checkpoint.json it cannot stat (a symlink loop) fails as loadCheckpoint fails on it, not as an empty store', async () => {
    const loopDir = join(dir, 'loop');
    await mkdir(loopDir);
    await symlink('checkpoint.json', join(loopDir, 'checkpoint.json'));
    const direct = await loadCheckpoint(loopDir).catch((err: Error & { code: string }) => ({ code: err.code, message: err.message }));
    expect(direct).toMatchObject({ code: 'E_CHECKPOINT_MISSING', message: expect.stringContaining('loop/checkpoint.json: ') });
    await expect(directoryCheckpointStore(loopDir).load()).rejects.toMatchObject(direct);
    expect(await directoryCheckpointStore(join(dir, 'absent')).load()).toBeUndefined();
  });
});
