#!/usr/bin/python3
"""Makes the YOLO11 fixture Strix's importer tests read (run with Debian's /usr/bin/python3 and python3-torch).

Like make_fixtures.py (whose blocks and helpers it reuses), it builds a module tree of its own, written from the
YOLO11 architecture (C3k2 with C3k blocks, SPPF, C2PSA position-sensitive attention, a head whose class branch is
depth-wise separable), registered under Ultralytics' import paths (``ultralytics.nn.modules.block.C3k2``,
``ultralytics.nn.modules.conv.DWConv`` ...), and saves it the way Ultralytics 8.3's trainer does: a dict whose
``ema`` entry is the fp16 module tree, carrying its ``yaml`` dict (rows, scales, scale). The scale is narrow
(depth 0.5, width 0.125: the attention stage keeps 64 channels, one head) and named ``s``, so C3k2 builds C3k
blocks only where a row asks for them and plain bottlenecks elsewhere: both block kinds are exercised.

Outputs (next to this script):
  tiny_yolo11.pt               checkpoint (model None, ema = fp16 model with its yaml)
  tiny_yolo11_io.safetensors   images [1,3,64,64], pred [1,4+nc,A], raw0..raw2, from the fp16-rounded weights in fp32,
                               and pred64: the same forward in float64 (the float32 rounding floor)
"""
import copy
import datetime
import math
import os

import torch
import torch.nn as nn

import make_fixtures as v8
from make_fixtures import Conv, Bottleneck, C2f, SPPF, ultralytics_class

HERE = os.path.dirname(os.path.abspath(__file__))
NC = 3
NAMES = {0: "bolt", 1: "nut", 2: "washer"}
SCALE = ("s", 0.50, 0.125, 1024)
IMGSZ = 64


@ultralytics_class("ultralytics.nn.modules.conv")
class DWConv(Conv):
    def __init__(self, c1, c2, k=1, s=1, act=True):
        super().__init__(c1, c2, k, s, g=math.gcd(c1, c2), act=act)


@ultralytics_class("ultralytics.nn.modules.block")
class C3(nn.Module):
    def __init__(self, c1, c2, n=1, shortcut=True, g=1, e=0.5):
        super().__init__()
        hidden = int(c2 * e)
        self.cv1 = Conv(c1, hidden, 1, 1)
        self.cv2 = Conv(c1, hidden, 1, 1)
        self.cv3 = Conv(2 * hidden, c2, 1)
        self.m = nn.Sequential(*(Bottleneck(hidden, hidden, shortcut, g, e=1.0) for _ in range(n)))

    def forward(self, x):
        return self.cv3(torch.cat((self.m(self.cv1(x)), self.cv2(x)), 1))


@ultralytics_class("ultralytics.nn.modules.block")
class C3k(C3):
    """C3 whose bottlenecks are 3x3 / 3x3 (make_fixtures' Bottleneck is always 3x3)."""


@ultralytics_class("ultralytics.nn.modules.block")
class C3k2(C2f):
    def __init__(self, c1, c2, n=1, c3k=False, e=0.5, g=1, shortcut=True):
        super().__init__(c1, c2, n, shortcut, g, e)
        self.m = nn.ModuleList(
            C3k(self.c, self.c, 2, shortcut, g) if c3k else Bottleneck(self.c, self.c, shortcut, g) for _ in range(n))


@ultralytics_class("ultralytics.nn.modules.block")
class Attention(nn.Module):
    def __init__(self, dim, num_heads=8, attn_ratio=0.5):
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.key_dim = int(self.head_dim * attn_ratio)
        self.scale = self.key_dim ** -0.5
        self.qkv = Conv(dim, dim + 2 * self.key_dim * num_heads, 1, act=False)
        self.proj = Conv(dim, dim, 1, act=False)
        self.pe = Conv(dim, dim, 3, 1, g=dim, act=False)

    def forward(self, x):
        b, c, h, w = x.shape
        q, k, v = self.qkv(x).view(b, self.num_heads, 2 * self.key_dim + self.head_dim, h * w).split(
            [self.key_dim, self.key_dim, self.head_dim], dim=2)
        attn = ((q.transpose(-2, -1) @ k) * self.scale).softmax(dim=-1)
        y = (v @ attn.transpose(-2, -1)).view(b, c, h, w) + self.pe(v.reshape(b, c, h, w))
        return self.proj(y)


@ultralytics_class("ultralytics.nn.modules.block")
class PSABlock(nn.Module):
    def __init__(self, c, attn_ratio=0.5, num_heads=4, shortcut=True):
        super().__init__()
        self.attn = Attention(c, num_heads, attn_ratio)
        self.ffn = nn.Sequential(Conv(c, 2 * c, 1), Conv(2 * c, c, 1, act=False))
        self.add = shortcut

    def forward(self, x):
        x = x + self.attn(x) if self.add else self.attn(x)
        return x + self.ffn(x) if self.add else self.ffn(x)


@ultralytics_class("ultralytics.nn.modules.block")
class C2PSA(nn.Module):
    def __init__(self, c1, c2, n=1, e=0.5):
        super().__init__()
        assert c1 == c2
        self.c = int(c1 * e)
        self.cv1 = Conv(c1, 2 * self.c, 1, 1)
        self.cv2 = Conv(2 * self.c, c1, 1)
        self.m = nn.Sequential(*(PSABlock(self.c, 0.5, self.c // 64) for _ in range(n)))

    def forward(self, x):
        a, b = self.cv1(x).split((self.c, self.c), dim=1)
        return self.cv2(torch.cat((a, self.m(b)), 1))


@ultralytics_class("ultralytics.nn.modules.head")
class Detect(v8.Detect):
    """YOLO11's head: the class branch is two (DWConv 3x3, Conv 1x1) pairs, then the 1x1 prediction conv."""
    legacy = False

    def __init__(self, nc=80, ch=()):
        super().__init__(nc, ch)
        c3 = max(ch[0], min(self.nc, 100))
        self.cv3 = nn.ModuleList(
            nn.Sequential(nn.Sequential(DWConv(x, x, 3), Conv(x, c3, 1)),
                          nn.Sequential(DWConv(c3, c3, 3), Conv(c3, c3, 1)),
                          nn.Conv2d(c3, self.nc, 1)) for x in ch)


BACKBONE = [
    [-1, 1, "Conv", [64, 3, 2]],
    [-1, 1, "Conv", [128, 3, 2]],
    [-1, 2, "C3k2", [256, False, 0.25]],
    [-1, 1, "Conv", [256, 3, 2]],
    [-1, 2, "C3k2", [512, False, 0.25]],
    [-1, 1, "Conv", [512, 3, 2]],
    [-1, 2, "C3k2", [512, True]],
    [-1, 1, "Conv", [1024, 3, 2]],
    [-1, 2, "C3k2", [1024, True]],
    [-1, 1, "SPPF", [1024, 5]],
    [-1, 2, "C2PSA", [1024]],
]
HEAD = [
    [-1, 1, "nn.Upsample", [None, 2, "nearest"]],
    [[-1, 6], 1, "Concat", [1]],
    [-1, 2, "C3k2", [512, False]],
    [-1, 1, "nn.Upsample", [None, 2, "nearest"]],
    [[-1, 4], 1, "Concat", [1]],
    [-1, 2, "C3k2", [256, False]],
    [-1, 1, "Conv", [256, 3, 2]],
    [[-1, 13], 1, "Concat", [1]],
    [-1, 2, "C3k2", [512, False]],
    [-1, 1, "Conv", [512, 3, 2]],
    [[-1, 10], 1, "Concat", [1]],
    [-1, 2, "C3k2", [1024, True]],
    [[16, 19, 22], 1, "Detect", ["nc"]],
]


def yolo11_blocks(scale_name):
    """YOLO11's channel-changing layers; C3k2 takes C3k blocks where the row asks, and always at m, l and x."""
    def make(kind, c1, c2, n, rest):
        if kind == "Conv":
            return Conv(c1, c2, *rest)
        if kind == "C3k2":
            c3k = rest[0] if rest else False
            e = rest[1] if len(rest) > 1 else 0.5
            return C3k2(c1, c2, n, c3k or scale_name in "mlx", e)
        if kind == "C2PSA":
            return C2PSA(c1, c2, n)
        return SPPF(c1, c2, *rest)
    return make


@ultralytics_class("ultralytics.nn.tasks")
class DetectionModel(v8.DetectionModel):
    def __init__(self, nc, scale):
        nn.Module.__init__(self)
        name, depth, width, max_ch = scale
        self.yaml = {"nc": nc, "scales": {name: [depth, width, max_ch]}, "backbone": BACKBONE, "head": HEAD,
                     "yaml_file": f"yolo11{name}.yaml", "scale": name, "ch": 3}
        self.model, self.save = v8.build_layers(nc, depth, width, max_ch, BACKBONE + HEAD, yolo11_blocks(name), Detect)
        self.names = {i: f"{i}" for i in range(nc)}
        self.inplace = True
        detect = self.model[-1]
        detect.stride = torch.tensor([8.0, 16.0, 32.0])
        self.stride = detect.stride
        detect.bias_init()


def main():
    torch.manual_seed(0)
    model = DetectionModel(NC, SCALE)
    v8.randomize(model)
    # The deeper YOLO11 stack (residual attention and C3k blocks) leaves larger activations than YOLOv8's at the
    # head: shrink the prediction convs' weights so box logits stay peaked on small distances and boxes stay of
    # plausible size, keeping fp32 rounding of pixel coordinates far below the test tolerance.
    with torch.no_grad():
        for box_branch, cls_branch in zip(model.model[-1].cv2, model.model[-1].cv3):
            box_branch[-1].weight.mul_(0.05)
            cls_branch[-1].weight.mul_(0.2)
    model.names = dict(NAMES)
    train_args = {"task": "detect", "mode": "train", "model": "yolo11s.yaml", "data": "bolts.yaml", "epochs": 3,
                  "imgsz": IMGSZ, "batch": 16}
    model.args = v8.IterableSimpleNamespace(**train_args)
    model.half().float()
    model.eval()
    g = torch.Generator().manual_seed(1)
    images = torch.rand(1, 3, IMGSZ, IMGSZ, generator=g)
    with torch.no_grad():
        raw = model.raw(images)
        pred = model.predict(images)
        ref64 = copy.deepcopy(model).double()
        pred64 = ref64.predict(images.double())
    print("params", sum(p.numel() for p in model.parameters()), "pred", tuple(pred.shape),
          "max |pred|", pred.abs().max().item(), "max |raw|", max(r.abs().max().item() for r in raw),
          "fp32 vs fp64 max abs diff", (pred.double() - pred64).abs().max().item())

    ema = copy.deepcopy(model).half()
    for p in ema.parameters():
        p.requires_grad = False
    ckpt = {"date": datetime.datetime(2025, 1, 2, 3, 4, 5).isoformat(), "version": "8.3.40",
            "license": "AGPL-3.0 (https://ultralytics.com/license)", "docs": "https://docs.ultralytics.com",
            "epoch": -1, "best_fitness": None, "model": None, "ema": ema, "updates": 7, "optimizer": None,
            "train_args": train_args}
    torch.save(ckpt, os.path.join(HERE, "tiny_yolo11.pt"))
    v8.write_safetensors(os.path.join(HERE, "tiny_yolo11_io.safetensors"),
                         {"images": images, "pred": pred, "pred64": pred64.float(), "raw0": raw[0], "raw1": raw[1], "raw2": raw[2]},
                         {"source": "make_yolo11_fixture.py", "torch": torch.__version__})


if __name__ == "__main__":
    main()
