#!/usr/bin/python3
"""Makes the Ultralytics-format fixtures Strix's importer tests read (run with Debian's /usr/bin/python3,
which has python3-torch 1.13, python3-onnx and python3-numpy).

No real Ultralytics file can be downloaded offline, so this script builds a YOLOv8 module tree of its own
(written from the architecture: Conv-BN-SiLU, C2f, SPPF, PAN neck, decoupled anchor-free head with DFL),
registers its classes under Ultralytics' import paths (``ultralytics.nn.tasks.DetectionModel``,
``ultralytics.nn.modules.conv.Conv``, ``ultralytics.nn.modules.block.C2f`` ...) and uses Ultralytics'
attribute names, so that ``torch.save`` writes the same pickle an Ultralytics checkpoint holds:
a dict whose ``ema`` entry is a pickled fp16 module tree. The scale is deliberately narrow
(depth 0.33, width 0.0625, 3 classes) to keep the files small.

Outputs (next to this script):
  tiny_yolov8.pt               checkpoint like Ultralytics' trainer saves (model None, ema = fp16 model)
  tiny_yolov8.onnx             BN-fused fp32 export, output [1, 4+nc, anchors], Ultralytics metadata_props
  tiny_yolov8_io.safetensors   the input image batch and PyTorch's outputs for it
                               (images [1,3,64,64], pred [1,4+nc,A], raw0..raw2 per-level head maps)

The reference outputs are computed in fp32 from the fp16-rounded weights, i.e. exactly the weights the
checkpoint holds, so an importer that widens fp16 -> fp32 should reproduce them to float rounding.
"""
import collections
import copy
import datetime
import json
import math
import os
import struct
import sys
import types

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
NC = 3
NAMES = {0: "bolt", 1: "nut", 2: "washer"}
SCALE = ("t", 0.33, 0.03125, 1024)  # name, depth, width, max channels
IMGSZ = 64


# --- a module namespace with Ultralytics' import paths, so pickle records those class paths ----------------
def _fake_module(name):
    mod = sys.modules.get(name)
    if mod is None:
        mod = types.ModuleType(name)
        sys.modules[name] = mod
        if "." in name:
            parent, _, child = name.rpartition(".")
            setattr(_fake_module(parent), child, mod)
    return mod


def ultralytics_class(module):
    """Registers a class under ``module`` (created in sys.modules) so pickle can reference it there."""
    def register(cls):
        cls.__module__ = module
        setattr(_fake_module(module), cls.__name__, cls)
        return cls
    return register


def make_divisible(x, divisor):
    return int(math.ceil(x / divisor) * divisor)


# --- YOLOv8 blocks -------------------------------------------------------------------------------------------
@ultralytics_class("ultralytics.nn.modules.conv")
class Conv(nn.Module):
    """Conv2d (no bias) -> BatchNorm2d (eps 1e-3, momentum 0.03) -> SiLU, 'same' padding."""
    default_act = nn.SiLU()

    def __init__(self, c1, c2, k=1, s=1, g=1, act=True):
        super().__init__()
        self.conv = nn.Conv2d(c1, c2, k, s, k // 2, groups=g, bias=False)
        self.bn = nn.BatchNorm2d(c2, eps=0.001, momentum=0.03)
        self.act = self.default_act if act is True else nn.Identity()

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))

    def forward_fuse(self, x):
        return self.act(self.conv(x))


@ultralytics_class("ultralytics.nn.modules.conv")
class Concat(nn.Module):
    def __init__(self, dimension=1):
        super().__init__()
        self.d = dimension

    def forward(self, x):
        return torch.cat(x, self.d)


@ultralytics_class("ultralytics.nn.modules.block")
class Bottleneck(nn.Module):
    def __init__(self, c1, c2, shortcut=True, g=1, e=0.5):
        super().__init__()
        hidden = int(c2 * e)
        self.cv1 = Conv(c1, hidden, 3, 1)
        self.cv2 = Conv(hidden, c2, 3, 1, g=g)
        self.add = shortcut and c1 == c2

    def forward(self, x):
        y = self.cv2(self.cv1(x))
        return x + y if self.add else y


@ultralytics_class("ultralytics.nn.modules.block")
class C2f(nn.Module):
    def __init__(self, c1, c2, n=1, shortcut=False, g=1, e=0.5):
        super().__init__()
        self.c = int(c2 * e)
        self.cv1 = Conv(c1, 2 * self.c, 1, 1)
        self.cv2 = Conv((2 + n) * self.c, c2, 1)
        self.m = nn.ModuleList(Bottleneck(self.c, self.c, shortcut, g, e=1.0) for _ in range(n))

    def forward(self, x):
        parts = list(self.cv1(x).chunk(2, 1))
        for block in self.m:
            parts.append(block(parts[-1]))
        return self.cv2(torch.cat(parts, 1))


@ultralytics_class("ultralytics.nn.modules.block")
class SPPF(nn.Module):
    def __init__(self, c1, c2, k=5):
        super().__init__()
        hidden = c1 // 2
        self.cv1 = Conv(c1, hidden, 1, 1)
        self.cv2 = Conv(hidden * 4, c2, 1, 1)
        self.m = nn.MaxPool2d(kernel_size=k, stride=1, padding=k // 2)

    def forward(self, x):
        y0 = self.cv1(x)
        y1 = self.m(y0)
        y2 = self.m(y1)
        return self.cv2(torch.cat((y0, y1, y2, self.m(y2)), 1))


@ultralytics_class("ultralytics.nn.modules.block")
class DFL(nn.Module):
    """Expected value of each side's reg_max-bin distribution, as a fixed 1x1 conv with weights 0..c1-1."""
    def __init__(self, c1=16):
        super().__init__()
        self.conv = nn.Conv2d(c1, 1, 1, bias=False).requires_grad_(False)
        self.conv.weight.data[:] = torch.arange(c1, dtype=torch.float).view(1, c1, 1, 1)
        self.c1 = c1

    def forward(self, x):
        b, _, a = x.shape
        return self.conv(x.view(b, 4, self.c1, a).transpose(2, 1).softmax(1)).view(b, 4, a)


def make_anchors(feats, strides, offset=0.5):
    points, stride_list = [], []
    for f, s in zip(feats, strides):
        _, _, h, w = f.shape
        sx = torch.arange(w, dtype=f.dtype) + offset
        sy = torch.arange(h, dtype=f.dtype) + offset
        gy, gx = torch.meshgrid(sy, sx, indexing="ij")
        points.append(torch.stack((gx, gy), -1).view(-1, 2))
        stride_list.append(torch.full((h * w, 1), float(s), dtype=f.dtype))
    return torch.cat(points), torch.cat(stride_list)


@ultralytics_class("ultralytics.nn.modules.head")
class Detect(nn.Module):
    dynamic = False
    export = False
    shape = None
    anchors = torch.empty(0)
    strides = torch.empty(0)

    def __init__(self, nc=80, ch=()):
        super().__init__()
        self.nc = nc
        self.nl = len(ch)
        self.reg_max = 16
        self.no = nc + self.reg_max * 4
        self.stride = torch.zeros(self.nl)
        c2 = max(16, ch[0] // 4, self.reg_max * 4)
        c3 = max(ch[0], min(self.nc, 100))
        self.cv2 = nn.ModuleList(nn.Sequential(Conv(x, c2, 3), Conv(c2, c2, 3), nn.Conv2d(c2, 4 * self.reg_max, 1)) for x in ch)
        self.cv3 = nn.ModuleList(nn.Sequential(Conv(x, c3, 3), Conv(c3, c3, 3), nn.Conv2d(c3, self.nc, 1)) for x in ch)
        self.dfl = DFL(self.reg_max)

    def raw(self, xs):
        return [torch.cat((self.cv2[i](xs[i]), self.cv3[i](xs[i])), 1) for i in range(self.nl)]

    def decode(self, feats):
        b = feats[0].shape[0]
        flat = torch.cat([f.view(b, self.no, -1) for f in feats], 2)
        box, cls = flat.split((self.reg_max * 4, self.nc), 1)
        anchors, strides = make_anchors(feats, self.stride.tolist(), 0.5)
        dist = self.dfl(box)
        lt, rb = dist.chunk(2, 1)
        pts = anchors.transpose(0, 1).unsqueeze(0)
        x1y1, x2y2 = pts - lt, pts + rb
        xywh = torch.cat(((x1y1 + x2y2) / 2, x2y2 - x1y1), 1) * strides.transpose(0, 1)
        return torch.cat((xywh, cls.sigmoid()), 1)

    def forward(self, xs):
        feats = self.raw(xs)
        return self.decode(feats) if self.export else feats

    def bias_init(self):
        for a, b, s in zip(self.cv2, self.cv3, self.stride):
            a[-1].bias.data[:] = 1.0
            b[-1].bias.data[: self.nc] = math.log(5 / self.nc / (640 / s) ** 2)


# The YOLOv8 architecture table: (from, repeats, module, args) with base channel counts.
BACKBONE = [
    [-1, 1, "Conv", [64, 3, 2]],
    [-1, 1, "Conv", [128, 3, 2]],
    [-1, 3, "C2f", [128, True]],
    [-1, 1, "Conv", [256, 3, 2]],
    [-1, 6, "C2f", [256, True]],
    [-1, 1, "Conv", [512, 3, 2]],
    [-1, 6, "C2f", [512, True]],
    [-1, 1, "Conv", [1024, 3, 2]],
    [-1, 3, "C2f", [1024, True]],
    [-1, 1, "SPPF", [1024, 5]],
]
HEAD = [
    [-1, 1, "nn.Upsample", [None, 2, "nearest"]],
    [[-1, 6], 1, "Concat", [1]],
    [-1, 3, "C2f", [512]],
    [-1, 1, "nn.Upsample", [None, 2, "nearest"]],
    [[-1, 4], 1, "Concat", [1]],
    [-1, 3, "C2f", [256]],
    [-1, 1, "Conv", [256, 3, 2]],
    [[-1, 12], 1, "Concat", [1]],
    [-1, 3, "C2f", [512]],
    [-1, 1, "Conv", [512, 3, 2]],
    [[-1, 9], 1, "Concat", [1]],
    [-1, 3, "C2f", [1024]],
    [[15, 18, 21], 1, "Detect", ["nc"]],
]


def make_v8_block(kind, c1, c2, n, rest):
    """The channel-changing YOLOv8 layers, with their input and (scaled) output widths and (scaled) repeats."""
    if kind == "Conv":
        return Conv(c1, c2, *rest)
    if kind == "C2f":
        return C2f(c1, c2, n, *rest)
    return SPPF(c1, c2, *rest)


def build_layers(nc, depth, width, max_ch, rows=None, make_block=make_v8_block, detect=None):
    """parse_model's construction and bookkeeping for ``rows`` (default: YOLOv8's table)."""
    rows = rows or BACKBONE + HEAD
    detect = detect or Detect
    ch, layers, save = [3], [], []
    for i, (f, n, kind, args) in enumerate(rows):
        n_ = max(round(n * depth), 1) if n > 1 else n
        if kind == "nn.Upsample":
            m, c2 = nn.Upsample(None, 2, "nearest"), ch[f]
        elif kind == "Concat":
            m, c2 = Concat(1), sum(ch[x] for x in f)
        elif kind == "Detect":
            m, c2 = detect(nc, [ch[x] for x in f]), None
        else:
            c1, c2 = ch[f], make_divisible(min(args[0], max_ch) * width, 8)
            m = make_block(kind, c1, c2, n_, list(args[1:]))
        # parse_model's bookkeeping attributes
        m.i, m.f, m.type = i, f, ("torch.nn.modules.upsampling.Upsample" if kind == "nn.Upsample"
                                  else f"ultralytics.nn.modules.{type(m).__module__.rsplit('.', 1)[1]}.{kind}")
        m.np = sum(p.numel() for p in m.parameters())
        save.extend(x % i for x in ([f] if isinstance(f, int) else f) if x != -1)
        layers.append(m)
        if i == 0:
            ch = []
        ch.append(c2)
    return nn.Sequential(*layers), sorted(save)


@ultralytics_class("ultralytics.nn.tasks")
class DetectionModel(nn.Module):
    def __init__(self, nc, scale):
        super().__init__()
        name, depth, width, max_ch = scale
        self.yaml = {
            "nc": nc,
            "scales": {name: [depth, width, max_ch]},
            "backbone": BACKBONE,
            "head": HEAD,
            "yaml_file": f"yolov8{name}.yaml",
            "scale": name,
            "ch": 3,
        }
        self.model, self.save = build_layers(nc, depth, width, max_ch)
        self.names = {i: f"{i}" for i in range(nc)}
        self.inplace = True
        detect = self.model[-1]
        detect.stride = torch.tensor([8.0, 16.0, 32.0])
        self.stride = detect.stride
        detect.bias_init()

    def raw(self, x):
        outs = []
        for m in self.model:
            if m.f != -1:
                x = outs[m.f] if isinstance(m.f, int) else [x if j == -1 else outs[j] for j in m.f]
            if isinstance(m, Detect):
                return m.raw(x)
            x = m(x)
            outs.append(x if m.i in self.save else None)

    def predict(self, x):
        return self.model[-1].decode(self.raw(x))

    def forward(self, x):
        return self.predict(x)

    def fuse(self):
        for m in self.modules():
            if isinstance(m, Conv) and hasattr(m, "bn"):
                fold_bn(m)
        return self


def fold_bn(m):
    conv, bn = m.conv, m.bn
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    fused = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,
                      groups=conv.groups, bias=True).requires_grad_(False)
    fused.weight.copy_(conv.weight * scale.view(-1, 1, 1, 1))
    fused.bias.copy_(bn.bias - bn.running_mean * scale)
    m.conv = fused
    delattr(m, "bn")
    m.forward = m.forward_fuse


@ultralytics_class("ultralytics.utils")
class IterableSimpleNamespace(types.SimpleNamespace):
    """Ultralytics keeps the training arguments on the model as one of these."""


# --- fixture construction ------------------------------------------------------------------------------------
def randomize(model):
    """Random conv weights and non-trivial batch-norm statistics that keep activations O(1)."""
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, nn.Conv2d) and mod.weight.requires_grad:
                fan_in = mod.weight[0].numel()
                mod.weight.copy_(torch.randn(mod.weight.shape, generator=g) / math.sqrt(fan_in))
                if mod.bias is not None:
                    mod.bias.add_(torch.randn(mod.bias.shape, generator=g) * 0.2)
            if isinstance(mod, nn.BatchNorm2d):
                c = mod.num_features
                mod.weight.copy_(0.5 + 0.5 * torch.rand(c, generator=g))
                mod.bias.copy_(0.1 * torch.randn(c, generator=g))
                mod.momentum = 1.0  # the calibration batch's statistics become the running ones
        # Running statistics from one batch of images like the test input, then perturbed a little,
        # so the fixture exercises every term of batch norm while activations stay O(1).
        model.train()
        model.raw(torch.rand(16, 3, IMGSZ, IMGSZ, generator=g))
        for mod in model.modules():
            if isinstance(mod, nn.BatchNorm2d):
                c = mod.num_features
                mod.momentum = 0.03
                var = mod.running_var
                var.clamp_(min=0.25 * var.mean().item())
                mod.running_mean.add_(0.05 * torch.randn(c, generator=g) * var.sqrt())
                var.mul_(0.9 + 0.2 * torch.rand(c, generator=g))
                mod.num_batches_tracked.fill_(1234)
        # Head biases: box distributions peaked on small distances (boxes of plausible size, so fp32
        # rounding of pixel coordinates stays far below the test tolerance) and class logits around 0
        # (scores spread over (0, 1) instead of the tiny training prior).
        detect = model.model[-1]
        bins = torch.arange(detect.reg_max, dtype=torch.float)
        for box_branch, cls_branch in zip(detect.cv2, detect.cv3):
            box_branch[-1].weight.mul_(0.25)
            cls_branch[-1].weight.mul_(0.5)
            b = box_branch[-1].bias
            b.copy_((1.5 - 0.5 * bins).repeat(4) + 0.3 * torch.randn(b.shape, generator=g))
            cls_branch[-1].bias.copy_(torch.randn(cls_branch[-1].bias.shape, generator=g))
    model.eval()


def save_ultralytics_checkpoint(path, model, train_args, version="8.3.40"):
    """Saves ``model`` as Ultralytics' trainer does: no 'model', 'ema' = an fp16 copy of the module tree (used by the newer fixtures)."""
    ema = copy.deepcopy(model).half()
    for p in ema.parameters():
        p.requires_grad = False
    ckpt = {"date": datetime.datetime(2025, 1, 2, 3, 4, 5).isoformat(), "version": version,
            "license": "AGPL-3.0 (https://ultralytics.com/license)", "docs": "https://docs.ultralytics.com",
            "epoch": -1, "best_fitness": None, "model": None, "ema": ema, "updates": 7, "optimizer": None,
            "train_args": train_args}
    torch.save(ckpt, path)


def add_ultralytics_metadata(path, meta):
    """Writes ``meta`` into an exported ONNX file's metadata_props, as Ultralytics' exporter does (values as str())."""
    import onnx
    m = onnx.load(path)
    for k, v in meta.items():
        entry = m.metadata_props.add()
        entry.key, entry.value = k, str(v)
    onnx.save(m, path)


def write_safetensors(path, tensors, metadata):
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name, t in tensors.items():
        data = t.detach().contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)) + raw + b"".join(blobs))


def main():
    torch.manual_seed(0)
    model = DetectionModel(NC, SCALE)
    randomize(model)
    model.names = dict(NAMES)
    train_args = {"task": "detect", "mode": "train", "model": "yolov8t.yaml", "data": "bolts.yaml", "epochs": 3,
                  "imgsz": IMGSZ, "batch": 16, "lr0": 0.01, "amp": True, "cache": False, "pretrained": True,
                  "name": "train", "single_cls": False, "mosaic": 1.0, "close_mosaic": 10}
    model.args = IterableSimpleNamespace(**train_args)

    # The checkpoint holds fp16 weights; the references use those same (rounded) weights in fp32.
    model.half().float()
    model.eval()
    g = torch.Generator().manual_seed(1)
    images = torch.rand(1, 3, IMGSZ, IMGSZ, generator=g)
    with torch.no_grad():
        raw = model.raw(images)
        pred = model.predict(images)
        # Float rounding floor: the same forward in float64.
        ref64 = DetectionModel(NC, SCALE)
        ref64.load_state_dict(model.state_dict())
        ref64.double().eval()
        pred64 = ref64.predict(images.double())
    print("pred", tuple(pred.shape), "fp32 vs fp64 max abs diff", (pred.double() - pred64).abs().max().item())

    # --- checkpoint, saved the way Ultralytics' trainer saves it ------------------------------------------
    import copy
    ema = copy.deepcopy(model).half()
    for p in ema.parameters():
        p.requires_grad = False
    ckpt = {
        "date": datetime.datetime(2024, 1, 2, 3, 4, 5).isoformat(),
        "version": "8.1.0",
        "license": "AGPL-3.0 (https://ultralytics.com/license)",
        "docs": "https://docs.ultralytics.com",
        "epoch": -1,
        "best_fitness": np.float64(0.4321),
        "model": None,
        "ema": ema,
        "updates": 42,
        "optimizer": None,
        "train_args": train_args,
        "train_metrics": {"metrics/precision(B)": np.float64(0.5), "metrics/mAP50-95(B)": 0.25, "fitness": np.float64(0.4321)},
        "train_results": {"epoch": [1, 2, 3], "train/box_loss": [1.5, 1.25, 1.0]},
    }
    pt_path = os.path.join(HERE, "tiny_yolov8.pt")
    torch.save(ckpt, pt_path)

    # --- ONNX export: BN fused first (as Ultralytics' exporter does), decoded output [1, 4+nc, A] ----------
    fused = copy.deepcopy(model).fuse().eval()
    with torch.no_grad():
        fused_diff = (fused.predict(images) - pred).abs().max().item()
    print("fused vs unfused max abs diff", fused_diff)
    onnx_path = os.path.join(HERE, "tiny_yolov8.onnx")
    torch.onnx.export(fused, images, onnx_path, opset_version=12, do_constant_folding=True,
                      input_names=["images"], output_names=["output0"])
    import onnx
    proto = onnx.load(onnx_path)
    meta = {
        "description": "Ultralytics YOLOv8t model trained on bolts.yaml",
        "author": "Ultralytics",
        "date": "2024-01-02T03:04:05",
        "version": "8.1.0",
        "license": "AGPL-3.0 License (https://ultralytics.com/license)",
        "docs": "https://docs.ultralytics.com",
        "stride": 32,
        "task": "detect",
        "batch": 1,
        "imgsz": [IMGSZ, IMGSZ],
        "names": NAMES,
    }
    for k, v in meta.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = k, str(v)
    onnx.save(proto, onnx_path)

    write_safetensors(os.path.join(HERE, "tiny_yolov8_io.safetensors"),
                      {"images": images, "pred": pred, "raw0": raw[0], "raw1": raw[1], "raw2": raw[2]},
                      {"source": "make_fixtures.py", "torch": torch.__version__})

    for name in ("tiny_yolov8.pt", "tiny_yolov8.onnx", "tiny_yolov8_io.safetensors"):
        print(f"{name}: {os.path.getsize(os.path.join(HERE, name))} bytes")
    print("parameters", sum(p.numel() for p in model.parameters()))


if __name__ == "__main__":
    main()
