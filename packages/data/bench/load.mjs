// Benchmark: load + parse all 70,000 Fashion-MNIST images from the gz files, in a fresh process per run so peak RSS is
// that of the load alone. Compared in the same run with Python (gzip + numpy.frombuffer) when python3 has numpy.
// Usage: node bench/load.mjs [--runs N] [--dir DIR]
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '7' }, dir: { type: 'string' }, child: { type: 'boolean' } } });

if (values.child) {
  const { loadFashionMnist } = await import(resolve(dirname(fileURLToPath(import.meta.url)), '../dist/node.js'));
  const t0 = performance.now();
  const data = await loadFashionMnist(values.dir ? { dir: values.dir } : {});
  const ms = performance.now() - t0;
  const n = data.train.count + data.test.count;
  process.stdout.write(JSON.stringify({ ms, n, source: data.location, maxRssMb: process.resourceUsage().maxRSS / 1024 }));
  process.exit(0);
}

const runs = Number(values.runs);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const node = [];
for (let i = 0; i < runs; i++) {
  const args = [fileURLToPath(import.meta.url), '--child', ...(values.dir ? ['--dir', values.dir] : [])];
  node.push(JSON.parse(execFileSync(process.execPath, args, { encoding: 'utf8' })));
}
const dir = values.dir ?? node[0].source;
const baselineRss = Number(
  execFileSync(process.execPath, ['-e', 'process.stdout.write(String(process.resourceUsage().maxRSS/1024))'], { encoding: 'utf8' }),
);

console.log(`@fmnist/data load bench — ${cpus().length}× ${cpus()[0]?.model}, Node ${process.version}, ${runs} runs, data: ${dir}`);
console.log(`  images loaded:              ${node[0].n}`);
console.log(
  `  @fmnist/data load + parse:  median ${median(node.map((r) => r.ms)).toFixed(0)} ms (min ${Math.min(...node.map((r) => r.ms)).toFixed(0)} ms)   target ≤ 400 ms`,
);
console.log(
  `  peak RSS (whole process):   median ${median(node.map((r) => r.maxRssMb)).toFixed(1)} MB (empty node process: ${baselineRss.toFixed(1)} MB)   target ≤ 110 MB`,
);

const py = `
import gzip, time, os, sys, resource
import numpy as np
d = sys.argv[1]
def load(name, offset):
    with gzip.open(os.path.join(d, name), 'rb') as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)
times = []
for _ in range(${runs}):
    t = time.perf_counter()
    xs = [load('train-images-idx3-ubyte.gz', 16), load('train-labels-idx1-ubyte.gz', 8), load('t10k-images-idx3-ubyte.gz', 16), load('t10k-labels-idx1-ubyte.gz', 8)]
    times.append(time.perf_counter() - t)
times.sort()
print(times[len(times)//2] * 1000, min(times) * 1000, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
`;
try {
  const [pyMs, pyMin, pyRss] = execFileSync('python3', ['-c', py, dir], { encoding: 'utf8' }).trim().split(' ').map(Number);
  const ours = median(node.map((r) => r.ms));
  console.log(`  Python gzip + numpy:        median ${pyMs.toFixed(0)} ms (min ${pyMin.toFixed(0)} ms), peak RSS ${pyRss.toFixed(1)} MB`);
  console.log(`  ratio Python / @fmnist/data: ${(pyMs / ours).toFixed(2)}× (>1 means we are faster)`);
} catch {
  console.log('  Python gzip + numpy:        skipped (python3 with numpy not found)');
}
