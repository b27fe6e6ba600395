#!/usr/bin/python3
"""Makes the YOLOv8-seg fixture Strix's importer tests read (run with Debian's /usr/bin/python3 and python3-torch).

Like make_yolo11_fixture.py it reuses make_fixtures.py's blocks: a YOLOv8 module tree of our own at a tiny scale,
whose last layer is a Segment head (Detect plus Proto: 3x3 Conv, 2x2 stride-2 transposed conv, 3x3 Conv, 1x1 Conv to
nm prototypes; and per level a cv4 branch of nm mask coefficients), registered as ``ultralytics.nn.tasks.SegmentationModel``
and saved as Ultralytics' trainer saves (``ema`` = the fp16 module tree with its ``yaml`` dict).

Outputs (next to this script):
  tiny_yolov8_seg.pt               checkpoint
  tiny_yolov8_seg_io.safetensors   images [1,3,64,64], pred [1,4+nc+nm,A] (boxes, scores, coefficients), proto [1,nm,16,16]
  tiny_yolov8_seg.onnx             BN-fused fp32 export as Ultralytics lays it out: output0 [1,4+nc+nm,A], output1 [1,nm,16,16],
                                   Ultralytics' metadata_props with task 'segment'
"""
import copy
import datetime
import os

import torch
import torch.nn as nn

import make_fixtures as v8
from make_fixtures import Conv, ultralytics_class

HERE = os.path.dirname(os.path.abspath(__file__))
NC = 3
NM, NPR = 32, 256
NAMES = {0: "scratch", 1: "dent", 2: "void"}
SCALE = ("t", 0.33, 0.0625, 1024)
IMGSZ = 64


@ultralytics_class("ultralytics.nn.modules.head")
class Proto(nn.Module):
    def __init__(self, c1, c_=256, c2=32):
        super().__init__()
        self.cv1 = Conv(c1, c_, 3)
        self.upsample = nn.ConvTranspose2d(c_, c_, 2, 2, 0, bias=True)
        self.cv2 = Conv(c_, c_, 3)
        self.cv3 = Conv(c_, c2)

    def forward(self, x):
        return self.cv3(self.cv2(self.upsample(self.cv1(x))))


@ultralytics_class("ultralytics.nn.modules.head")
class Segment(v8.Detect):
    def __init__(self, nc, nm, npr, ch):
        super().__init__(nc, ch)
        self.nm, self.npr = nm, npr
        self.proto = Proto(ch[0], npr, nm)
        c4 = max(ch[0] // 4, nm)
        self.cv4 = nn.ModuleList(nn.Sequential(Conv(x, c4, 3), Conv(c4, c4, 3), nn.Conv2d(c4, nm, 1)) for x in ch)

    def seg(self, xs):
        b = xs[0].shape[0]
        feats = self.raw(xs)
        mc = torch.cat([self.cv4[i](xs[i]).view(b, self.nm, -1) for i in range(self.nl)], 2)
        return torch.cat((self.decode(feats), mc), 1), self.proto(xs[0])


ROWS = v8.BACKBONE + v8.HEAD[:-1] + [[[15, 18, 21], 1, "Detect", ["nc"]]]
YAML_ROWS = v8.HEAD[:-1] + [[[15, 18, 21], 1, "Segment", ["nc", NM, NPR]]]


@ultralytics_class("ultralytics.nn.tasks")
class SegmentationModel(v8.DetectionModel):
    def __init__(self, nc, scale):
        nn.Module.__init__(self)
        name, depth, width, max_ch = scale
        self.yaml = {"nc": nc, "scales": {name: [depth, width, max_ch]}, "backbone": v8.BACKBONE, "head": YAML_ROWS,
                     "yaml_file": f"yolov8{name}-seg.yaml", "scale": name, "ch": 3}
        npr = v8.make_divisible(min(NPR, max_ch) * width, 8)
        self.model, self.save = v8.build_layers(nc, depth, width, max_ch, ROWS, detect=lambda n, ch: Segment(n, NM, npr, ch))
        self.model[-1].type = "ultralytics.nn.modules.head.Segment"
        self.names = {i: f"{i}" for i in range(nc)}
        self.inplace = True
        head = self.model[-1]
        head.stride = torch.tensor([8.0, 16.0, 32.0])
        self.stride = head.stride
        head.bias_init()

    def seg(self, x):
        outs = []
        for m in self.model:
            if m.f != -1:
                x = outs[m.f] if isinstance(m.f, int) else [x if j == -1 else outs[j] for j in m.f]
            if isinstance(m, Segment):
                return m.seg(x)
            x = m(x)
            outs.append(x if m.i in self.save else None)


def main():
    torch.manual_seed(0)
    model = SegmentationModel(NC, SCALE)
    v8.randomize(model)
    model.names = dict(NAMES)
    train_args = {"task": "segment", "mode": "train", "model": "yolov8t-seg.yaml", "data": "defects.yaml", "epochs": 3,
                  "imgsz": IMGSZ, "batch": 16}
    model.args = v8.IterableSimpleNamespace(**train_args)
    model.half().float()
    model.eval()
    g = torch.Generator().manual_seed(1)
    images = torch.rand(1, 3, IMGSZ, IMGSZ, generator=g)
    with torch.no_grad():
        pred, proto = model.seg(images)
    print("params", sum(p.numel() for p in model.parameters()), "pred", tuple(pred.shape), "proto", tuple(proto.shape),
          "max |pred|", pred.abs().max().item(), "max |proto|", proto.abs().max().item())
    ema = copy.deepcopy(model).half()
    for p in ema.parameters():
        p.requires_grad = False
    ckpt = {"date": datetime.datetime(2025, 1, 2, 3, 4, 5).isoformat(), "version": "8.3.40",
            "license": "AGPL-3.0 (https://ultralytics.com/license)", "docs": "https://docs.ultralytics.com",
            "epoch": -1, "best_fitness": None, "model": None, "ema": ema, "updates": 7, "optimizer": None,
            "train_args": train_args}
    torch.save(ckpt, os.path.join(HERE, "tiny_yolov8_seg.pt"))
    v8.write_safetensors(os.path.join(HERE, "tiny_yolov8_seg_io.safetensors"), {"images": images, "pred": pred, "proto": proto},
                         {"source": "make_seg_fixture.py", "torch": torch.__version__})
    export_onnx(model, images, pred, proto)


class TwoOutputs(nn.Module):
    """The exported graph: the model's two inference outputs, as Ultralytics' exporter traces a -seg model."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model.seg(x)


def export_onnx(model, images, pred, proto):
    fused = copy.deepcopy(model).fuse().eval()
    with torch.no_grad():
        fp, fq = fused.seg(images)
    print("fused vs unfused max abs diff", (fp - pred).abs().max().item(), (fq - proto).abs().max().item())
    path = os.path.join(HERE, "tiny_yolov8_seg.onnx")
    torch.onnx.export(TwoOutputs(fused), images, path, opset_version=12, do_constant_folding=True,
                      input_names=["images"], output_names=["output0", "output1"])
    import onnx
    m = onnx.load(path)
    meta = {"description": "Ultralytics YOLOv8t-seg model trained on defects.yaml", "author": "Ultralytics",
            "date": "2025-01-02T03:04:05", "version": "8.3.40", "license": "AGPL-3.0 License (https://ultralytics.com/license)",
            "docs": "https://docs.ultralytics.com", "stride": 32, "task": "segment", "batch": 1, "imgsz": [IMGSZ, IMGSZ],
            "names": NAMES}
    for k, v in meta.items():
        entry = m.metadata_props.add()
        entry.key, entry.value = k, str(v)
    onnx.save(m, path)
    print("tiny_yolov8_seg.onnx", os.path.getsize(path), "bytes")


if __name__ == "__main__":
    main()
