#!/usr/bin/python3
"""Makes the YOLOv8-OBB fixture Strix's importer tests read (run with Debian's /usr/bin/python3 and python3-torch).

Like make_pose_fixture.py it reuses make_fixtures.py's blocks: a YOLOv8 module tree of our own at a tiny scale whose
last layer is an OBB head (Detect plus, per level, a cv4 branch: 3x3 Conv, 3x3 Conv, 1x1 Conv to one angle value; the
angle is (sigmoid - 1/4) * pi and the box distances are measured along the rotated axes: dist2rbox), registered as
``ultralytics.nn.tasks.OBBModel`` and saved as Ultralytics' trainer saves.

Outputs (next to this script):
  tiny_yolov8_obb.pt               checkpoint (3 classes)
  tiny_yolov8_obb_io.safetensors   images [1,3,64,64] and pred [1, 4+nc+1, A] (rotated xywh in pixels, scores, angle)
  tiny_yolov8_obb.onnx             BN-fused fp32 export as Ultralytics lays it out, metadata task 'obb'
"""
import copy
import math
import os

import torch
import torch.nn as nn

import make_fixtures as v8
from make_fixtures import Conv, ultralytics_class

HERE = os.path.dirname(os.path.abspath(__file__))
NC = 3
NAMES = {0: "plane", 1: "ship", 2: "vehicle"}
SCALE = ("t", 0.33, 0.0625, 1024)
IMGSZ = 64


def dist2rbox(dist, angle, anchors):
    lt, rb = dist.split(2, dim=1)
    cos, sin = torch.cos(angle), torch.sin(angle)
    xf, yf = ((rb - lt) / 2).split(1, dim=1)
    x, y = xf * cos - yf * sin, xf * sin + yf * cos
    return torch.cat([torch.cat([x, y], 1) + anchors, lt + rb], 1)


@ultralytics_class("ultralytics.nn.modules.head")
class OBB(v8.Detect):
    def __init__(self, nc, ne, ch):
        super().__init__(nc, ch)
        self.ne = ne
        c4 = max(ch[0] // 4, self.ne)
        self.cv4 = nn.ModuleList(nn.Sequential(Conv(x, c4, 3), Conv(c4, c4, 3), nn.Conv2d(c4, self.ne, 1)) for x in ch)

    def obb(self, xs):
        b = xs[0].shape[0]
        feats = self.raw(xs)
        angle = (torch.cat([self.cv4[i](xs[i]).view(b, self.ne, -1) for i in range(self.nl)], 2).sigmoid() - 0.25) * math.pi
        flat = torch.cat([f.view(b, self.no, -1) for f in feats], 2)
        box, cls = flat.split((self.reg_max * 4, self.nc), 1)
        anchors, strides = v8.make_anchors(feats, self.stride.tolist(), 0.5)
        rbox = dist2rbox(self.dfl(box), angle, anchors.transpose(0, 1).unsqueeze(0)) * strides.transpose(0, 1)
        return torch.cat((rbox, cls.sigmoid(), angle), 1)


ROWS = v8.BACKBONE + v8.HEAD[:-1] + [[[15, 18, 21], 1, "Detect", ["nc"]]]
YAML_ROWS = v8.HEAD[:-1] + [[[15, 18, 21], 1, "OBB", ["nc", 1]]]


@ultralytics_class("ultralytics.nn.tasks")
class OBBModel(v8.DetectionModel):
    def __init__(self, nc, scale):
        nn.Module.__init__(self)
        name, depth, width, max_ch = scale
        self.yaml = {"nc": nc, "scales": {name: [depth, width, max_ch]}, "backbone": v8.BACKBONE, "head": YAML_ROWS,
                     "yaml_file": f"yolov8{name}-obb.yaml", "scale": name, "ch": 3}
        self.model, self.save = v8.build_layers(nc, depth, width, max_ch, ROWS, detect=lambda n, ch: OBB(n, 1, ch))
        self.model[-1].type = "ultralytics.nn.modules.head.OBB"
        self.names = {i: f"{i}" for i in range(nc)}
        self.inplace = True
        head = self.model[-1]
        head.stride = torch.tensor([8.0, 16.0, 32.0])
        self.stride = head.stride
        head.bias_init()

    def obb(self, x):
        outs = []
        for m in self.model:
            if m.f != -1:
                x = outs[m.f] if isinstance(m.f, int) else [x if j == -1 else outs[j] for j in m.f]
            if isinstance(m, OBB):
                return m.obb(x)
            x = m(x)
            outs.append(x if m.i in self.save else None)


class ObbOutput(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model.obb(x)


def main():
    torch.manual_seed(0)
    model = OBBModel(NC, SCALE)
    v8.randomize(model)
    model.names = dict(NAMES)
    train_args = {"task": "obb", "mode": "train", "model": "yolov8t-obb.yaml", "data": "aerial.yaml", "epochs": 3,
                  "imgsz": IMGSZ, "batch": 16}
    model.args = v8.IterableSimpleNamespace(**train_args)
    model.half().float()
    model.eval()
    g = torch.Generator().manual_seed(1)
    images = torch.rand(1, 3, IMGSZ, IMGSZ, generator=g)
    with torch.no_grad():
        pred = model.obb(images)
    print("params", sum(p.numel() for p in model.parameters()), "pred", tuple(pred.shape))
    v8.save_ultralytics_checkpoint(os.path.join(HERE, "tiny_yolov8_obb.pt"), model, train_args)
    v8.write_safetensors(os.path.join(HERE, "tiny_yolov8_obb_io.safetensors"), {"images": images, "pred": pred},
                         {"source": "make_obb_fixture.py", "torch": torch.__version__})
    fused = copy.deepcopy(model).fuse().eval()
    with torch.no_grad():
        print("fused vs unfused max abs diff", (fused.obb(images) - pred).abs().max().item())
    path = os.path.join(HERE, "tiny_yolov8_obb.onnx")
    torch.onnx.export(ObbOutput(fused), images, path, opset_version=12, do_constant_folding=True,
                      input_names=["images"], output_names=["output0"])
    v8.add_ultralytics_metadata(path, {"description": "Ultralytics YOLOv8t-obb model trained on aerial.yaml", "author": "Ultralytics",
                                       "date": "2025-01-02T03:04:05", "version": "8.3.40", "stride": 32, "task": "obb", "batch": 1,
                                       "imgsz": [IMGSZ, IMGSZ], "names": NAMES})


if __name__ == "__main__":
    main()
