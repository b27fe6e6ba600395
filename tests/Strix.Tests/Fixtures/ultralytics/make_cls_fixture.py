#!/usr/bin/python3
"""Makes the YOLOv8-cls fixture Strix's importer tests read (run with Debian's /usr/bin/python3 and python3-torch).

Like make_seg_fixture.py it reuses make_fixtures.py's blocks: the YOLOv8 backbone (no SPPF, as in a -cls model file)
at a tiny scale, then a Classify head of our own written from the architecture (1x1 Conv to 1280 channels, global
average pool, dropout, linear to nc logits; softmax at inference), registered as ``ultralytics.nn.modules.head.Classify``
inside an ``ultralytics.nn.tasks.ClassificationModel`` and saved as Ultralytics' trainer saves (``ema`` = the fp16
module tree with its ``yaml`` dict).

The same for YOLO11 (make_yolo11_fixture.py's C3k2 and C2PSA blocks, the YOLO11 backbone without SPPF, at the real
scale letter 's' with a narrow width), so the yaml rows are the built-in yolo11-cls file's.

Outputs (next to this script):
  tiny_yolov8_cls.pt               checkpoint
  tiny_yolov8_cls_io.safetensors   images [2,3,64,64] and PyTorch's probabilities for them, probs [2,nc]
  tiny_yolo11_cls.pt, tiny_yolo11_cls_io.safetensors   the same for YOLO11
  tiny_yolov8_cls.onnx             BN-fused fp32 export as Ultralytics lays a -cls model out: output0 [1, nc] probabilities,
                                   Ultralytics' metadata_props (task 'classify', stride 1 as a ClassificationModel has)
"""
import copy
import math
import os

import torch
import torch.nn as nn

import make_fixtures as v8
import make_yolo11_fixture as y11
from make_fixtures import Conv, ultralytics_class

HERE = os.path.dirname(os.path.abspath(__file__))
NC = 4
NAMES = {0: "good", 1: "scratch", 2: "dent", 3: "stain"}
IMGSZ = 64
HEAD = [[-1, 1, "Classify", ["nc"]]]
# family: (backbone rows, block maker, scale (name, depth, width, max channels), yaml file)
FAMILIES = {
    "yolov8": (v8.BACKBONE[:-1], lambda name: v8.make_v8_block, ("t", 0.33, 0.0625, 1024), "yolov8t-cls.yaml"),  # ends with the last C2f
    "yolo11": (y11.BACKBONE[:9] + y11.BACKBONE[10:], y11.yolo11_blocks, ("s", 0.50, 0.125, 1024), "yolo11s-cls.yaml"),  # no SPPF
}


@ultralytics_class("ultralytics.nn.modules.head")
class Classify(nn.Module):
    def __init__(self, c1, c2):
        super().__init__()
        c_ = 1280
        self.conv = Conv(c1, c_, 1, 1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.drop = nn.Dropout(p=0.0, inplace=True)
        self.linear = nn.Linear(c_, c2)

    def forward(self, x):
        x = self.linear(self.drop(self.pool(self.conv(x)).flatten(1)))
        return x if self.training else x.softmax(1)


@ultralytics_class("ultralytics.nn.tasks")
class ClassificationModel(nn.Module):
    def __init__(self, nc, family):
        super().__init__()
        backbone, blocks, scale, yaml_file = FAMILIES[family]
        name, depth, width, max_ch = scale
        self.yaml = {"nc": nc, "scales": {name: [depth, width, max_ch]}, "backbone": backbone, "head": HEAD,
                     "yaml_file": yaml_file, "scale": name, "ch": 3}
        layers, self.save = v8.build_layers(nc, depth, width, max_ch, rows=backbone, make_block=blocks(name))
        c1 = v8.make_divisible(min(1024, max_ch) * width, 8)
        head = Classify(c1, nc)
        head.i, head.f, head.type = len(layers), -1, "ultralytics.nn.modules.head.Classify"
        head.np = sum(p.numel() for p in head.parameters())
        self.model = nn.Sequential(*layers, head)
        self.names = {i: f"{i}" for i in range(nc)}
        self.stride = torch.Tensor([1])

    def forward(self, x):
        outs = []
        for m in self.model:
            if m.f != -1:
                x = outs[m.f] if isinstance(m.f, int) else [x if j == -1 else outs[j] for j in m.f]
            x = m(x)
            outs.append(x if m.i in self.save else None)
        return x


def randomize(model):
    """Random weights and batch-norm statistics from one batch like the test input, as make_fixtures.randomize."""
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, (nn.Conv2d, nn.Linear)):
                fan_in = mod.weight[0].numel()
                mod.weight.copy_(torch.randn(mod.weight.shape, generator=g) / math.sqrt(fan_in))
                if mod.bias is not None:
                    mod.bias.copy_(torch.randn(mod.bias.shape, generator=g) * 0.2)
            if isinstance(mod, nn.BatchNorm2d):
                c = mod.num_features
                mod.weight.copy_(0.5 + 0.5 * torch.rand(c, generator=g))
                mod.bias.copy_(0.1 * torch.randn(c, generator=g))
                mod.momentum = 1.0
        model.train()
        model(torch.rand(16, 3, IMGSZ, IMGSZ, generator=g))
        for mod in model.modules():
            if isinstance(mod, nn.BatchNorm2d):
                mod.momentum = 0.03
                mod.running_var.clamp_(min=0.25 * mod.running_var.mean().item())
                mod.num_batches_tracked.fill_(1234)
        model.model[-1].linear.weight.mul_(3.0)  # spread the probabilities, so they test more than the uniform 1/nc
    model.eval()


def main():
    for family in FAMILIES:
        make(family)


def make(family):
    torch.manual_seed(0)
    model = ClassificationModel(NC, family)
    randomize(model)
    model.names = dict(NAMES)
    train_args = {"task": "classify", "mode": "train", "model": FAMILIES[family][3], "data": "parts", "epochs": 3,
                  "imgsz": IMGSZ, "batch": 16}
    model.args = v8.IterableSimpleNamespace(**train_args)
    model.half().float()
    model.eval()
    g = torch.Generator().manual_seed(1)
    images = torch.rand(2, 3, IMGSZ, IMGSZ, generator=g)
    with torch.no_grad():
        probs = model(images)
    print(family, "params", sum(p.numel() for p in model.parameters()), "probs", probs.tolist())
    v8.save_ultralytics_checkpoint(os.path.join(HERE, f"tiny_{family}_cls.pt"), model, train_args)
    v8.write_safetensors(os.path.join(HERE, f"tiny_{family}_cls_io.safetensors"), {"images": images, "probs": probs},
                         {"source": "make_cls_fixture.py", "torch": torch.__version__})
    if family == "yolov8":
        export_onnx(model, images[:1], probs[:1])


def export_onnx(model, image, probs):
    fused = copy.deepcopy(model)
    for m in fused.modules():
        if isinstance(m, Conv) and hasattr(m, "bn"):
            v8.fold_bn(m)
    fused.eval()
    with torch.no_grad():
        fp = fused(image)
    print("fused vs unfused max abs diff", (fp - probs).abs().max().item())
    path = os.path.join(HERE, "tiny_yolov8_cls.onnx")
    torch.onnx.export(fused, image, path, opset_version=12, do_constant_folding=True, input_names=["images"], output_names=["output0"])
    v8.add_ultralytics_metadata(path, {"description": "Ultralytics YOLOv8t-cls model trained on parts", "author": "Ultralytics",
            "date": "2025-01-02T03:04:05", "version": "8.3.40", "license": "AGPL-3.0 License (https://ultralytics.com/license)",
            "docs": "https://docs.ultralytics.com", "stride": 1, "task": "classify", "batch": 1, "imgsz": [IMGSZ, IMGSZ],
            "names": NAMES})


if __name__ == "__main__":
    main()
