"""PyTorch comparison for issue 19's time-to-accuracy bench: the same MLP-Mixer and recipe as `fmnist train`.

The model is `@fmnist/model`'s Mixer (patch embedding, pre-LayerNorm token and channel MLPs with residuals, GELU,
final LayerNorm, head on the patch mean), initialised as ours (weights ~ N(0, 1/fan_in), biases 0, norms 1/0), trained
with AdamW (decoupled weight decay on Linear weights only), a cosine schedule per step to 0, shift ±s px (zero fill) +
left-right flip, batch 256, inputs bytes/255. Evaluates after every epoch and prints one JSON line per epoch:
{"epoch", "wall_s" (training + evaluation so far, data loading excluded), "train_loss", "eval_accuracy"}.

With "benchSteps": N in the recipe it only times N training steps on random data (DATA_DIR unused).

Usage: /usr/bin/python3 torch_mixer.py DATA_DIR '{"patchSize":7,...full config}' '{"epochs":15,...recipe}' [threads]
DATA_DIR holds the four official .gz files. Trains on all 60,000 training images (or the first "subset" of them) and
evaluates the test set, as the presets' recorded runs do; the batch order and augmentation use torch's RNG, so runs
match ours in distribution, not bit for bit.
"""
import gzip
import json
import math
import os
import sys
import time

import numpy as np
import torch
from torch import nn


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


class Mixer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.p = c["patchSize"]
        tokens = (28 // self.p) ** 2
        d = c["dim"]
        self.embed = nn.Linear(self.p * self.p, d)
        self.blocks = nn.ModuleList()
        for _ in range(c["blocks"]):
            self.blocks.append(
                nn.ModuleDict(
                    {
                        "norm1": nn.LayerNorm(d),
                        "t1": nn.Linear(tokens, c["tokenHidden"]),
                        "t2": nn.Linear(c["tokenHidden"], tokens),
                        "norm2": nn.LayerNorm(d),
                        "c1": nn.Linear(d, c["channelHidden"]),
                        "c2": nn.Linear(c["channelHidden"], d),
                    }
                )
            )
        self.norm = nn.LayerNorm(d)
        self.head = nn.Linear(d, 10)
        self.act = nn.GELU()
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, std=1 / math.sqrt(m.in_features))
                nn.init.zeros_(m.bias)

    def forward(self, x):  # [B, 28, 28] floats
        b, g = x.shape[0], 28 // self.p
        h = self.embed(x.reshape(b, g, self.p, g, self.p).permute(0, 1, 3, 2, 4).reshape(b, g * g, self.p * self.p))
        for blk in self.blocks:
            u = blk["norm1"](h).transpose(1, 2)
            h = h + blk["t2"](self.act(blk["t1"](u))).transpose(1, 2)
            h = h + blk["c2"](self.act(blk["c1"](blk["norm2"](h))))
        return self.head(self.norm(h).mean(dim=1))


def augment(x, shift, flip, gen):
    b = x.shape[0]
    if shift:
        padded = torch.nn.functional.pad(x, (shift, shift, shift, shift))
        dx = torch.randint(0, 2 * shift + 1, (b,), generator=gen)
        dy = torch.randint(0, 2 * shift + 1, (b,), generator=gen)
        rows = (dy[:, None] + torch.arange(28)[None, :])[:, :, None]
        cols = (dx[:, None] + torch.arange(28)[None, :])[:, None, :]
        x = padded[torch.arange(b)[:, None, None], rows, cols]
    if flip:
        m = torch.rand(b, generator=gen) < 0.5
        x = torch.where(m[:, None, None], x.flip(2), x)
    return x


def bench_steps(config, steps, threads):
    """Median training-step time on random data (batch 256), as bench/kernels.mjs measures ours."""
    model = Mixer(config)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    x, y = torch.rand(256, 28, 28), torch.randint(0, 10, (256,))
    times = []
    for i in range(steps + 3):
        t = time.perf_counter()
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
        if i >= 3:
            times.append(time.perf_counter() - t)
    ms = sorted(times)[len(times) // 2] * 1000
    print(json.dumps({"ms_per_step": ms, "images_per_s": 256000 / ms, "threads": threads, "torch": torch.__version__}))


def main():
    data_dir, config, recipe = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
    threads = int(sys.argv[4]) if len(sys.argv) > 4 else 2
    torch.set_num_threads(threads)
    if recipe.get("benchSteps"):
        return bench_steps(config, recipe["benchSteps"], threads)
    torch.manual_seed(recipe.get("seed", 0))
    gen = torch.Generator().manual_seed(recipe.get("seed", 0))
    xtr = torch.from_numpy(read_idx(os.path.join(data_dir, "train-images-idx3-ubyte.gz")).astype(np.float32) / 255)
    ytr = torch.from_numpy(read_idx(os.path.join(data_dir, "train-labels-idx1-ubyte.gz")).astype(np.int64))
    xte = torch.from_numpy(read_idx(os.path.join(data_dir, "t10k-images-idx3-ubyte.gz")).astype(np.float32) / 255)
    yte = torch.from_numpy(read_idx(os.path.join(data_dir, "t10k-labels-idx1-ubyte.gz")).astype(np.int64))
    if recipe.get("subset"):
        xtr, ytr = xtr[: recipe["subset"]], ytr[: recipe["subset"]]
    model = Mixer(config)
    decay = [p for n, p in model.named_parameters() if n.endswith("weight") and p.dim() == 2]
    rest = [p for n, p in model.named_parameters() if not (n.endswith("weight") and p.dim() == 2)]
    lr, epochs, bs = recipe["learningRate"], recipe["epochs"], recipe.get("batchSize", 256)
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": recipe.get("weightDecay", 0)}, {"params": rest, "weight_decay": 0}], lr=lr
    )
    steps_per_epoch = math.ceil(len(xtr) / bs)
    total = epochs * steps_per_epoch
    warm = recipe.get("warmupSteps", 0)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=recipe.get("labelSmoothing", 0))
    aug = recipe.get("augment") or {}
    step = 0
    t0 = time.perf_counter()
    for epoch in range(1, epochs + 1):
        model.train()
        perm = torch.randperm(len(xtr), generator=gen)
        total_loss = 0.0
        for i in range(steps_per_epoch):
            idx = perm[i * bs : (i + 1) * bs]
            x = augment(xtr[idx], aug.get("shift", 0), aug.get("flip", False), gen)
            if recipe.get("lrSchedule") == "cosine":
                f = (step + 1) / warm if step < warm else 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, total - warm)))
                for group in opt.param_groups:
                    group["lr"] = lr * f
            opt.zero_grad()
            loss = loss_fn(model(x), ytr[idx])
            loss.backward()
            opt.step()
            total_loss += loss.item() * len(idx)
            step += 1
        model.eval()
        with torch.no_grad():
            correct = sum(int((model(xte[j : j + 1000]).argmax(1) == yte[j : j + 1000]).sum()) for j in range(0, len(xte), 1000))
        row = {
            "epoch": epoch,
            "wall_s": round(time.perf_counter() - t0, 2),
            "train_loss": total_loss / len(xtr),
            "eval_accuracy": correct / len(xte),
            "threads": threads,
            "torch": torch.__version__,
        }
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
