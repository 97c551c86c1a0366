"""Every preset of `@fmnist/model` in PyTorch, trained with the same recipe, for `pnpm bench` (bench/train.mjs).

The model is `@fmnist/model`'s, for any config: patch embedding, then per block a token-mixing MLP (across patches) and
a channel-mixing MLP, each with a pre-LayerNorm and a residual when the config says so (the Mixers; `patch-mlp` and
`coursework` have neither), GELU (exact, erf) / ReLU / none, a final LayerNorm (Mixers), and the head on the patch
mean (the head is linear, so this equals averaging the per-patch logits, the model's definition). Initialised as ours:
Linear weights ~ N(0, 1/fan_in) (`init: fan-in`) or N(0, std²) (`init: normal`, the coursework's std 1), biases 0,
norms 1/0. Trained as `train()` does: Adam(W) (β 0.9/0.999, ε 1e-8; decoupled weight decay on Linear weights only), the
learning rate constant or cosine-annealed per step to 0 (`lr · ½(1 + cos(π · step / total))`), label smoothing as
`CrossEntropyLoss(label_smoothing)`, shift ±s px (zero fill) and a left-right flip with probability ½ drawn per image,
then Random Erasing with probability `erase` as ours (one rectangle of 2–40 % of the image, aspect ratio 0.3–3.3
log-uniform, random pixel values, 10 tries for one that fits), batch 256 with the last, smaller batch kept, inputs
bytes/255. The batch order, the augmentation and the initial weights use torch's RNG: runs match ours in
distribution, not bit for bit.

Modes:
  torch_mixer.py bench THREADS
      A step-timing server for bench/train.mjs: reads one JSON request per line on stdin,
      {"config": {...full config}, "recipe": {...}, "steps": N, "batch": 256}, times N training steps on random data
      (3 warm-up steps the first time a config is seen; the model and optimizer are kept between requests) and prints
      {"times_ms": [...], "threads": T, "torch": "..."} per request. EOF ends it.
  torch_mixer.py train FILES_JSON CONFIG_JSON RECIPE_JSON [THREADS]
      Trains and evaluates the test set after every epoch, printing one JSON line per epoch: {"epoch", "wall_s" (since
      before the data was read: data loading, model creation, training and evaluations), "load_s", "train_loss",
      "eval_accuracy"}. FILES_JSON lists the four IDX files (gzip or raw) in the order train images, train labels,
      test images, test labels. The recipe holds epochs, learningRate, lrSchedule, weightDecay, labelSmoothing,
      augment, batchSize (256), seed (0), and optionally subset (train on the first N images) and stopAt (stop after
      the first epoch whose test accuracy is ≥ stopAt).
  torch_mixer.py parity JSON_FILE
      Checks that this model is ours: JSON_FILE holds {"n", "x" (n·784 pixels in [0, 1]), "models": {name: {"config",
      "params" (our tensors by name, Linear weights [in, out]), "logits" (ours, n·10)}}}; loads each into the PyTorch
      model and prints {name: {"max_abs_diff", "max_abs_logit"}} on one line.
  torch_mixer.py DATA_DIR CONFIG_JSON RECIPE_JSON [THREADS]
      As `train`, with the four official .gz files in DATA_DIR (the form earlier experiments used).
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

OFFICIAL = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]


def read_idx(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


class Mixer(nn.Module):
    """`@fmnist/model`'s model for any config (every preset)."""

    def __init__(self, c):
        super().__init__()
        self.p = c["patchSize"]
        tokens = (28 // self.p) ** 2
        d = c["dim"]
        self.layernorm = c["norm"] == "layernorm"
        self.residual = bool(c["residual"])
        self.embed = nn.Linear(self.p * self.p, d)
        self.blocks = nn.ModuleList()
        for _ in range(c["blocks"]):
            layers = {
                "t1": nn.Linear(tokens, c["tokenHidden"]),
                "t2": nn.Linear(c["tokenHidden"], tokens),
                "c1": nn.Linear(d, c["channelHidden"]),
                "c2": nn.Linear(c["channelHidden"], d),
            }
            if self.layernorm:
                layers.update({"norm1": nn.LayerNorm(d), "norm2": nn.LayerNorm(d)})
            self.blocks.append(nn.ModuleDict(layers))
        self.norm = nn.LayerNorm(d) if self.layernorm else nn.Identity()
        self.head = nn.Linear(d, c.get("numClasses", 10))
        self.act = {"gelu": nn.GELU(), "relu": nn.ReLU(), "none": nn.Identity()}[c["activation"]]
        init = c["init"]
        for m in self.modules():
            if isinstance(m, nn.Linear):
                std = init["std"] if init["kind"] == "normal" else 1 / math.sqrt(m.in_features)
                nn.init.normal_(m.weight, std=std)
                nn.init.zeros_(m.bias)

    def forward(self, x):  # [B, 28, 28] floats
        b, g = x.shape[0], 28 // self.p
        h = self.embed(x.reshape(b, g, self.p, g, self.p).permute(0, 1, 3, 2, 4).reshape(b, g * g, self.p * self.p))
        for blk in self.blocks:
            u = blk["norm1"](h) if self.layernorm else h
            t = blk["t2"](self.act(blk["t1"](u.transpose(1, 2)))).transpose(1, 2)
            h = h + t if self.residual else t
            u = blk["norm2"](h) if self.layernorm else h
            c = blk["c2"](self.act(blk["c1"](u)))
            h = h + c if self.residual else c
        return self.head(self.norm(h).mean(dim=1))


def make_optimizer(model, recipe):
    """Adam, or AdamW with the decay on Linear weights only (as `train()`): PyTorch's AdamW with weight_decay 0 is Adam."""
    decay = [p for n, p in model.named_parameters() if n.endswith("weight") and p.dim() == 2]
    rest = [p for n, p in model.named_parameters() if not (n.endswith("weight") and p.dim() == 2)]
    return torch.optim.AdamW(
        [{"params": decay, "weight_decay": recipe.get("weightDecay", 0)}, {"params": rest, "weight_decay": 0}],
        lr=recipe["learningRate"],
        betas=(0.9, 0.999),
        eps=1e-8,
    )


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


def erase(x, p, gen):
    """Random Erasing as `@fmnist/data`'s (Zhong et al., 2020, their Fashion-MNIST bounds), on a batch [b, 28, 28] in [0, 1]."""
    hit = (torch.rand(x.shape[0], generator=gen) < p).nonzero().flatten().tolist()
    if not hit:
        return x
    x = x.clone()
    uniform = lambda: torch.rand(1, generator=gen).item()  # noqa: E731
    for i in hit:
        for _ in range(10):
            area = 784 * (0.02 + 0.38 * uniform())
            ratio = math.exp(math.log(0.3) + (math.log(1 / 0.3) - math.log(0.3)) * uniform())
            h, w = math.floor(math.sqrt(area * ratio) + 0.5), math.floor(math.sqrt(area / ratio) + 0.5)
            if h < 1 or w < 1 or h >= 28 or w >= 28:
                continue
            top = int(torch.randint(0, 28 - h + 1, (1,), generator=gen))
            left = int(torch.randint(0, 28 - w + 1, (1,), generator=gen))
            x[i, top : top + h, left : left + w] = torch.randint(0, 256, (h, w), generator=gen).float() / 255
            break
    return x


def serve_bench(threads):
    """Times training steps on random data, one JSON request per stdin line (see the module docstring)."""
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    kept = {}
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        key = json.dumps([req["config"], req.get("recipe", {}), req.get("batch", 256)], sort_keys=True)
        if key not in kept:
            recipe = {"learningRate": 1e-3, **req.get("recipe", {})}
            model = Mixer(req["config"])
            opt = make_optimizer(model, recipe)
            loss_fn = nn.CrossEntropyLoss(label_smoothing=recipe.get("labelSmoothing", 0))
            b = req.get("batch", 256)
            x, y = torch.rand(b, 28, 28), torch.randint(0, 10, (b,))
            kept[key] = (model, opt, loss_fn, x, y, 3)
        model, opt, loss_fn, x, y, warm = kept[key]
        times = []
        for i in range(warm + req["steps"]):
            t = time.perf_counter()
            opt.zero_grad()
            loss_fn(model(x), y).backward()
            opt.step()
            if i >= warm:
                times.append((time.perf_counter() - t) * 1000)
        kept[key] = (model, opt, loss_fn, x, y, 0)
        print(json.dumps({"times_ms": times, "threads": threads, "torch": torch.__version__}), flush=True)


def train(files, config, recipe, threads):
    t0 = time.perf_counter()
    torch.set_num_threads(threads)
    torch.manual_seed(recipe.get("seed", 0))
    gen = torch.Generator().manual_seed(recipe.get("seed", 0))
    xtr = torch.from_numpy(read_idx(files[0]).astype(np.float32) / 255)
    ytr = torch.from_numpy(read_idx(files[1]).astype(np.int64))
    xte = torch.from_numpy(read_idx(files[2]).astype(np.float32) / 255)
    yte = torch.from_numpy(read_idx(files[3]).astype(np.int64))
    load_s = time.perf_counter() - t0
    if recipe.get("subset"):
        xtr, ytr = xtr[: recipe["subset"]], ytr[: recipe["subset"]]
    model = Mixer(config)
    opt = make_optimizer(model, recipe)
    lr, epochs, bs = recipe["learningRate"], recipe["epochs"], recipe.get("batchSize", 256)
    steps_per_epoch = math.ceil(len(xtr) / bs)
    total = epochs * steps_per_epoch
    warm = recipe.get("warmupSteps", 0)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=recipe.get("labelSmoothing", 0))
    aug = recipe.get("augment") or {}
    step = 0
    for epoch in range(1, epochs + 1):
        model.train()
        perm = torch.randperm(len(xtr), generator=gen)
        total_loss = 0.0
        for i in range(steps_per_epoch):
            idx = perm[i * bs : (i + 1) * bs]
            x = augment(xtr[idx], aug.get("shift", 0), aug.get("flip", False), gen)
            if aug.get("erase"):
                x = erase(x, aug["erase"], gen)
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
            "load_s": round(load_s, 2),
            "train_loss": total_loss / len(xtr),
            "eval_accuracy": correct / len(xte),
            "threads": threads,
            "torch": torch.__version__,
        }
        print(json.dumps(row), flush=True)
        if recipe.get("stopAt") is not None and row["eval_accuracy"] >= recipe["stopAt"]:
            break


OUR_NAMES = {"t1": "token_mlp.fc1", "t2": "token_mlp.fc2", "c1": "channel_mlp.fc1", "c2": "channel_mlp.fc2"}


def parity(path):
    with open(path) as f:
        d = json.load(f)
    x = torch.tensor(d["x"], dtype=torch.float32).reshape(d["n"], 28, 28)
    out = {}
    for name, o in d["models"].items():
        model = Mixer(o["config"])
        state = {}
        for key, value in model.state_dict().items():
            parts = key.split(".")
            ours = f"blocks.{parts[1]}.{OUR_NAMES.get(parts[2], parts[2])}.{parts[3]}" if parts[0] == "blocks" else key
            t = torch.tensor(o["params"][ours], dtype=torch.float32)
            # Our Linear weights are [in, out] (y = x @ W + b); torch's are [out, in].
            state[key] = t.reshape(value.shape[1], value.shape[0]).t() if value.dim() == 2 else t.reshape(value.shape)
        model.load_state_dict(state)
        with torch.no_grad():
            logits = model(x)
        theirs = torch.tensor(o["logits"], dtype=torch.float32).reshape(logits.shape)
        out[name] = {"max_abs_diff": float((logits - theirs).abs().max()), "max_abs_logit": float(theirs.abs().max())}
    print(json.dumps(out))


def main():
    if sys.argv[1] == "parity":
        return parity(sys.argv[2])
    if sys.argv[1] == "bench":
        return serve_bench(int(sys.argv[2]) if len(sys.argv) > 2 else 2)
    if sys.argv[1] == "train":
        files, rest = json.loads(sys.argv[2]), sys.argv[3:]
    else:
        files, rest = [os.path.join(sys.argv[1], f) for f in OFFICIAL], sys.argv[2:]
    config, recipe = json.loads(rest[0]), json.loads(rest[1])
    threads = int(rest[2]) if len(rest) > 2 else 2
    train(files, config, recipe, threads)


if __name__ == "__main__":
    main()
