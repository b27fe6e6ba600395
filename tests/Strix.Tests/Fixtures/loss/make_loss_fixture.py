#!/usr/bin/python3
"""Reference values for Strix's YOLOv8 detection loss (tests/Strix.Tests/Loss/LossFixtureTests.cs).

An independent, deliberately plain (per image, per gt, per anchor) PyTorch implementation of the
YOLOv8 loss from its definitions: TOOD task-aligned assignment (top-k 10, alpha 0.5, beta 6, CIoU
overlaps clamped at 0, anchor centres inside the gt box), CIoU box loss, Distribution Focal Loss
(reg_max 16), BCE-with-logits class loss, gains box 7.5 / cls 0.5 / dfl 1.5, each normalised by
the target-score sum; total = sum of gained items x batch size.

Inputs are fixed random head maps and targets; the script writes them with the loss items, the
total loss and d(loss)/d(head maps) as .npy files in case_<name>/.
Run with Debian's python3-torch:  /usr/bin/python3 make_loss_fixture.py
"""
import math
import os

import numpy as np
import torch

REG_MAX = 16
STRIDES = (8, 16, 32)
GAINS = (7.5, 0.5, 1.5)
TOPK, ALPHA, BETA = 10, 0.5, 6.0
EPS_IN, EPS_NORM, EPS_IOU = 1e-9, 1e-9, 1e-7
STATS = {"conflicts": 0}


def ciou(b1, b2, eps=EPS_IOU):
    """CIoU of two xyxy boxes (1-D tensors of 4); alpha of the aspect term is a constant."""
    w1, h1 = b1[2] - b1[0], b1[3] - b1[1] + eps
    w2, h2 = b2[2] - b2[0], b2[3] - b2[1] + eps
    iw = (torch.min(b1[2], b2[2]) - torch.max(b1[0], b2[0])).clamp(min=0)
    ih = (torch.min(b1[3], b2[3]) - torch.max(b1[1], b2[1])).clamp(min=0)
    inter = iw * ih
    iou = inter / (w1 * h1 + w2 * h2 - inter + eps)
    cw = torch.max(b1[2], b2[2]) - torch.min(b1[0], b2[0])
    ch = torch.max(b1[3], b2[3]) - torch.min(b1[1], b2[1])
    diag2 = cw ** 2 + ch ** 2 + eps
    dx = (b2[0] + b2[2]) / 2 - (b1[0] + b1[2]) / 2
    dy = (b2[1] + b2[3]) / 2 - (b1[1] + b1[3]) / 2
    v = 4 / math.pi ** 2 * (torch.atan(w2 / h2) - torch.atan(w1 / h1)) ** 2
    with torch.no_grad():
        a = v / (v - iou + (1 + eps))
    return iou - (dx ** 2 + dy ** 2) / diag2 - a * v


def anchors_for(preds):
    pts, strd = [], []
    for p, s in zip(preds, STRIDES):
        h, w = p.shape[2:]
        for yi in range(h):
            for xi in range(w):
                pts.append([xi + 0.5, yi + 0.5])
                strd.append(float(s))
    return torch.tensor(pts), torch.tensor(strd)


def assign_image(scores, boxes_px, anc_px, gts, nc):
    """Per image: returns {anchor: (gt index, soft score)} after task-aligned assignment."""
    n_a = anc_px.shape[0]
    m_n = len(gts)
    if m_n == 0:
        return {}
    ov = torch.zeros(m_n, n_a)
    met = torch.zeros(m_n, n_a)
    pos = torch.zeros(m_n, n_a, dtype=torch.bool)
    for m, (c, g) in enumerate(gts):
        inside = ((anc_px[:, 0] - g[0] > EPS_IN) & (anc_px[:, 1] - g[1] > EPS_IN)
                  & (g[2] - anc_px[:, 0] > EPS_IN) & (g[3] - anc_px[:, 1] > EPS_IN))
        cand = inside.nonzero().flatten().tolist()
        for a in cand:
            ov[m, a] = ciou(g, boxes_px[a]).clamp(min=0)
            met[m, a] = scores[a, c] ** ALPHA * ov[m, a] ** BETA
        # top-k candidates by alignment metric
        ranked = sorted(cand, key=lambda a: -float(met[m, a]))[:TOPK]
        for a in ranked:
            pos[m, a] = True
    # an anchor claimed by several gts goes to the claimant it overlaps most
    for a in range(n_a):
        claim = pos[:, a].nonzero().flatten().tolist()
        if len(claim) > 1:
            STATS["conflicts"] += 1
            best = max(claim, key=lambda m: (float(ov[m, a]), -m))
            pos[:, a] = False
            pos[best, a] = True
    out = {}
    for m in range(m_n):
        idx = pos[m].nonzero().flatten().tolist()
        if not idx:
            continue
        best_met = max(float(met[m, a]) for a in idx)
        best_ov = max(float(ov[m, a]) for a in idx)
        for a in idx:
            out[a] = (m, float(met[m, a]) * best_ov / (best_met + EPS_NORM))
    return out


def reference_loss(preds, batch_idx, cls, bboxes, nc):
    b_n = preds[0].shape[0]
    img_h, img_w = preds[0].shape[2] * STRIDES[0], preds[0].shape[3] * STRIDES[0]
    anchors, stride = anchors_for(preds)
    n_a = anchors.shape[0]
    flat = torch.cat([p.reshape(b_n, 4 * REG_MAX + nc, -1) for p in preds], 2).permute(0, 2, 1)
    dist_logits = flat[..., :4 * REG_MAX].reshape(b_n, n_a, 4, REG_MAX)
    cls_logits = flat[..., 4 * REG_MAX:]
    dist = (dist_logits.softmax(-1) * torch.arange(REG_MAX, dtype=torch.float32)).sum(-1)
    pbox = torch.cat([anchors - dist[..., :2], anchors + dist[..., 2:]], -1)  # grid units

    target_scores = torch.zeros(b_n, n_a, nc)
    fg = []  # (image, anchor, gt box in pixels)
    for b in range(b_n):
        gts = []
        for i in range(len(batch_idx)):
            if int(batch_idx[i]) == b:
                x, y, w, h = (float(bboxes[i, 0]) * img_w, float(bboxes[i, 1]) * img_h,
                              float(bboxes[i, 2]) * img_w, float(bboxes[i, 3]) * img_h)
                gts.append((int(cls[i]), torch.tensor([x - w / 2, y - h / 2, x + w / 2, y + h / 2])))
        res = assign_image(cls_logits[b].detach().sigmoid(), pbox[b].detach() * stride[:, None],
                           anchors * stride[:, None], gts, nc)
        for a, (m, s) in res.items():
            target_scores[b, a, gts[m][0]] = s
            fg.append((b, a, gts[m][1]))
    tss = max(float(target_scores.sum()), 1.0)

    x = cls_logits
    bce = x.clamp(min=0) - x * target_scores + torch.log1p(torch.exp(-x.abs()))
    loss_cls = bce.sum() / tss

    loss_box = torch.zeros(())
    loss_dfl = torch.zeros(())
    for b, a, g_px in fg:
        w = target_scores[b, a].sum()
        g = g_px / stride[a]
        loss_box = loss_box + (1 - ciou(pbox[b, a], g)) * w
        ax, ay = anchors[a]
        ltrb = torch.stack([ax - g[0], ay - g[1], g[2] - ax, g[3] - ay]).clamp(0, REG_MAX - 1 - 0.01)
        logp = dist_logits[b, a].log_softmax(-1)  # [4, reg_max]
        side = torch.zeros(())
        for k in range(4):
            t = ltrb[k]
            lo = int(math.floor(float(t)))
            side = side - logp[k, lo] * (lo + 1 - t) - logp[k, lo + 1] * (t - lo)
        loss_dfl = loss_dfl + side / 4 * w
    loss_box = loss_box / tss
    loss_dfl = loss_dfl / tss

    items = torch.stack([loss_box * GAINS[0], loss_cls * GAINS[1], loss_dfl * GAINS[2]])
    return items.sum() * b_n, items.detach(), tss, len(fg)


def make_case(name, seed, b_n, h, w, nc, targets):
    g = torch.Generator().manual_seed(seed)
    preds = []
    for s in STRIDES:
        p = torch.randn(b_n, 4 * REG_MAX + nc, h // s, w // s, generator=g) * 1.5
        # Lean the distributions towards short distances (boxes of a few cells, like the targets)
        # and the classes towards "absent", so overlaps and scores are in a realistic range.
        p[:, :4 * REG_MAX] -= (0.4 * torch.arange(REG_MAX, dtype=torch.float32)).repeat(4).view(1, -1, 1, 1)
        p[:, 4 * REG_MAX:] -= 3.0
        preds.append(p.requires_grad_(True))
    batch_idx = torch.tensor([t[0] for t in targets], dtype=torch.float32)
    cls = torch.tensor([t[1] for t in targets], dtype=torch.float32)
    bboxes = torch.tensor([t[2] for t in targets], dtype=torch.float32).reshape(-1, 4)
    loss, items, tss, n_fg = reference_loss(preds, batch_idx, cls, bboxes, nc)
    loss.backward()
    conflicts, STATS["conflicts"] = STATS["conflicts"], 0

    d = os.path.join(os.path.dirname(os.path.abspath(__file__)), "case_" + name)
    os.makedirs(d, exist_ok=True)
    f32 = lambda t: np.ascontiguousarray(t.detach().numpy().astype(np.float32))
    for i, p in enumerate(preds):
        np.save(os.path.join(d, f"pred{i}.npy"), f32(p))
        np.save(os.path.join(d, f"grad{i}.npy"), f32(p.grad))
    np.save(os.path.join(d, "batch_idx.npy"), f32(batch_idx))
    np.save(os.path.join(d, "cls.npy"), f32(cls))
    np.save(os.path.join(d, "bboxes.npy"), f32(bboxes))
    np.save(os.path.join(d, "items.npy"), f32(items))
    np.save(os.path.join(d, "loss.npy"), f32(loss.reshape(1)))
    print(f"case {name}: loss {float(loss):.6f} items {items.tolist()} target_scores_sum {tss:.6f} fg {n_fg} "
          f"multiply-claimed anchors {conflicts}")


if __name__ == "__main__":
    torch.set_num_threads(1)
    # 3 images of 32x64 (h x w), nc 3; image 1 has no objects; targets interleaved across images.
    make_case("a", 1, 3, 32, 64, 3, [
        (0, 0, [0.25, 0.50, 0.30, 0.70]),
        (2, 1, [0.60, 0.45, 0.50, 0.60]),
        (0, 2, [0.70, 0.40, 0.20, 0.50]),
        (2, 2, [0.30, 0.60, 0.25, 0.60]),
        (0, 1, [0.45, 0.55, 0.60, 0.80]),
    ])
    # 2 images of 64x64, nc 2, with nested and overlapping boxes so several gts claim the same anchors.
    make_case("b", 2, 2, 64, 64, 2, [
        (0, 0, [0.50, 0.50, 0.80, 0.80]),
        (0, 1, [0.50, 0.50, 0.40, 0.40]),
        (0, 1, [0.45, 0.55, 0.30, 0.50]),
        (0, 0, [0.20, 0.25, 0.30, 0.40]),
        (0, 0, [0.75, 0.30, 0.40, 0.40]),
        (1, 1, [0.50, 0.50, 0.90, 0.90]),
        (1, 0, [0.55, 0.45, 0.35, 0.35]),
        (1, 1, [0.20, 0.80, 0.25, 0.25]),
    ])
