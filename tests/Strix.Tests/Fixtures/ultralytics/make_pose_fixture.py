#!/usr/bin/python3
"""Makes the YOLOv8-pose fixture Strix's importer tests read (run with Debian's /usr/bin/python3 and python3-torch).

Like make_seg_fixture.py it reuses make_fixtures.py's blocks: a YOLOv8 module tree of our own at a tiny scale whose
last layer is a Pose head (Detect plus, per level, a cv4 branch: 3x3 Conv, 3x3 Conv, 1x1 Conv to K*D keypoint values;
a keypoint is (2*raw + anchor - 0.5) * stride, its visibility a sigmoid), registered as ``ultralytics.nn.tasks.PoseModel``
with ``kpt_shape`` in its yaml, and saved as Ultralytics' trainer saves (``ema`` = the fp16 module tree).

Outputs (next to this script):
  tiny_yolov8_pose.pt               checkpoint (1 class, kpt_shape [5, 3])
  tiny_yolov8_pose_io.safetensors   images [1,3,64,64] and pred [1, 4+nc+K*D, A] (boxes, scores, keypoints in pixels)
  tiny_yolov8_pose.onnx             BN-fused fp32 export as Ultralytics lays it out: output0 [1, 4+nc+K*D, A], Ultralytics'
                                    metadata_props with task 'pose' and kpt_shape
"""
import copy
import os

import torch
import torch.nn as nn

import make_fixtures as v8
from make_fixtures import Conv, ultralytics_class

HERE = os.path.dirname(os.path.abspath(__file__))
NC = 1
KPT_SHAPE = [5, 3]
NAMES = {0: "part"}
SCALE = ("t", 0.33, 0.0625, 1024)
IMGSZ = 64


@ultralytics_class("ultralytics.nn.modules.head")
class Pose(v8.Detect):
    def __init__(self, nc, kpt_shape, ch):
        super().__init__(nc, ch)
        self.kpt_shape = kpt_shape
        self.nk = kpt_shape[0] * kpt_shape[1]
        c4 = max(ch[0] // 4, self.nk)
        self.cv4 = nn.ModuleList(nn.Sequential(Conv(x, c4, 3), Conv(c4, c4, 3), nn.Conv2d(c4, self.nk, 1)) for x in ch)

    def pose(self, xs):
        b = xs[0].shape[0]
        feats = self.raw(xs)
        kpt = torch.cat([self.cv4[i](xs[i]).view(b, self.nk, -1) for i in range(self.nl)], -1)
        anchors, strides = v8.make_anchors(feats, self.stride.tolist(), 0.5)
        ndim = self.kpt_shape[1]
        y = kpt.clone()
        if ndim == 3:
            y[:, 2::3] = y[:, 2::3].sigmoid()
        y[:, 0::ndim] = (y[:, 0::ndim] * 2.0 + (anchors[:, 0] - 0.5)) * strides[:, 0]
        y[:, 1::ndim] = (y[:, 1::ndim] * 2.0 + (anchors[:, 1] - 0.5)) * strides[:, 0]
        return torch.cat((self.decode(feats), y), 1)


ROWS = v8.BACKBONE + v8.HEAD[:-1] + [[[15, 18, 21], 1, "Detect", ["nc"]]]
YAML_ROWS = v8.HEAD[:-1] + [[[15, 18, 21], 1, "Pose", ["nc", "kpt_shape"]]]


@ultralytics_class("ultralytics.nn.tasks")
class PoseModel(v8.DetectionModel):
    def __init__(self, nc, scale):
        nn.Module.__init__(self)
        name, depth, width, max_ch = scale
        self.yaml = {"nc": nc, "kpt_shape": KPT_SHAPE, "scales": {name: [depth, width, max_ch]}, "backbone": v8.BACKBONE,
                     "head": YAML_ROWS, "yaml_file": f"yolov8{name}-pose.yaml", "scale": name, "ch": 3}
        self.model, self.save = v8.build_layers(nc, depth, width, max_ch, ROWS, detect=lambda n, ch: Pose(n, KPT_SHAPE, ch))
        self.model[-1].type = "ultralytics.nn.modules.head.Pose"
        self.names = {i: f"{i}" for i in range(nc)}
        self.kpt_shape = KPT_SHAPE
        self.inplace = True
        head = self.model[-1]
        head.stride = torch.tensor([8.0, 16.0, 32.0])
        self.stride = head.stride
        head.bias_init()

    def pose(self, x):
        outs = []
        for m in self.model:
            if m.f != -1:
                x = outs[m.f] if isinstance(m.f, int) else [x if j == -1 else outs[j] for j in m.f]
            if isinstance(m, Pose):
                return m.pose(x)
            x = m(x)
            outs.append(x if m.i in self.save else None)


def main():
    torch.manual_seed(0)
    model = PoseModel(NC, SCALE)
    v8.randomize(model)
    with torch.no_grad():  # keypoint offsets of a cell or two, as a trained model's
        for branch in model.model[-1].cv4:
            branch[-1].weight.mul_(0.3)
    model.names = dict(NAMES)
    train_args = {"task": "pose", "mode": "train", "model": "yolov8t-pose.yaml", "data": "parts-pose.yaml", "epochs": 3,
                  "imgsz": IMGSZ, "batch": 16}
    model.args = v8.IterableSimpleNamespace(**train_args)
    model.half().float()
    model.eval()
    g = torch.Generator().manual_seed(1)
    images = torch.rand(1, 3, IMGSZ, IMGSZ, generator=g)
    with torch.no_grad():
        pred = model.pose(images)
    print("params", sum(p.numel() for p in model.parameters()), "pred", tuple(pred.shape), "max |pred|", pred.abs().max().item())
    v8.save_ultralytics_checkpoint(os.path.join(HERE, "tiny_yolov8_pose.pt"), model, train_args)
    v8.write_safetensors(os.path.join(HERE, "tiny_yolov8_pose_io.safetensors"), {"images": images, "pred": pred},
                         {"source": "make_pose_fixture.py", "torch": torch.__version__})
    export_onnx(model, images, pred)


class PoseOutput(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model.pose(x)


def export_onnx(model, images, pred):
    fused = copy.deepcopy(model).fuse().eval()
    with torch.no_grad():
        fp = fused.pose(images)
    print("fused vs unfused max abs diff", (fp - pred).abs().max().item())
    path = os.path.join(HERE, "tiny_yolov8_pose.onnx")
    torch.onnx.export(PoseOutput(fused), images, path, opset_version=12, do_constant_folding=True,
                      input_names=["images"], output_names=["output0"])
    v8.add_ultralytics_metadata(path, {"description": "Ultralytics YOLOv8t-pose model trained on parts-pose.yaml", "author": "Ultralytics",
            "date": "2025-01-02T03:04:05", "version": "8.3.40", "license": "AGPL-3.0 License (https://ultralytics.com/license)",
            "docs": "https://docs.ultralytics.com", "stride": 32, "task": "pose", "batch": 1, "imgsz": [IMGSZ, IMGSZ],
            "names": NAMES, "kpt_shape": KPT_SHAPE})


if __name__ == "__main__":
    main()
