"""PyTorch reference for `pnpm --filter @fmnist/model bench`: the same patch-MLP, batch 256, median train step.

Prints one JSON line: {"ms_per_step": …, "images_per_s": …, "threads": …, "torch": …}.
Usage: /usr/bin/python3 torch_step.py [threads] [steps] [preset]
"""
import json
import sys
import time

import torch
from torch import nn

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
steps = int(sys.argv[2]) if len(sys.argv) > 2 else 20
torch.set_num_threads(threads)
torch.manual_seed(0)


class PatchMLP(nn.Module):
    """The coursework's model: 49 patches of 4x4, embed 16->128, token MLP 49->128->49, channel MLP 128->128->128,
    head 128->10 on every patch, logits averaged over patches."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Linear(16, 128)
        self.t1, self.t2 = nn.Linear(49, 128), nn.Linear(128, 49)
        self.c1, self.c2 = nn.Linear(128, 128), nn.Linear(128, 128)
        self.head = nn.Linear(128, 10)
        self.act = nn.GELU()

    def forward(self, x):  # x: [B, 1, 28, 28]
        b = x.shape[0]
        p = x.reshape(b, 7, 4, 7, 4).permute(0, 1, 3, 2, 4).reshape(b, 49, 16)
        h = self.embed(p)
        h = self.t2(self.act(self.t1(h.transpose(1, 2)))).transpose(1, 2)
        h = self.c2(self.act(self.c1(h)))
        return self.head(h).mean(dim=1)


model = PatchMLP()
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
loss_fn = nn.CrossEntropyLoss()
x = torch.rand(256, 1, 28, 28)
y = torch.randint(0, 10, (256,))
times = []
for i in range(steps + 3):
    t = time.perf_counter()
    opt.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    opt.step()
    if i >= 3:
        times.append(time.perf_counter() - t)
times.sort()
ms = times[len(times) // 2] * 1000
print(json.dumps({"ms_per_step": ms, "images_per_s": 256 / ms * 1000, "threads": threads, "torch": torch.__version__}))
