"""Makes metrics_reference.json: random detections + ground truth and the metrics an independent
numpy implementation of the Ultralytics/COCO definitions gives for them (float32 IoU, numpy interp,
trapezoid over 101 recall points, box-filter smoothed F1). Run with /usr/bin/python3 (numpy only).
Predictions are stored in descending confidence per image, as NMS emits them."""
import json
import numpy as np

rng = np.random.default_rng(20261124)
NC, IMAGES = 5, 150
THRESHOLDS = np.array([0.5 + 0.05 * i for i in range(10)], dtype=np.float32)


def iou_matrix(a, b):
    a = a.astype(np.float32)[:, None, :]
    b = b.astype(np.float32)[None, :, :]
    wh = (np.minimum(a[..., 2:], b[..., 2:]) - np.maximum(a[..., :2], b[..., :2])).clip(0)
    inter = wh[..., 0] * wh[..., 1]
    area_a = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
    area_b = (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    return inter / (area_a + area_b - inter + np.float32(1e-7))


def match(pred, gt, gt_cls):
    """tp [n,10]: candidates of the same class with IoU >= t; each prediction keeps its best-IoU
    ground truth; a ground truth claimed several times goes to the lowest prediction index."""
    n = len(pred)
    correct = np.zeros((n, 10), dtype=bool)
    if n == 0 or len(gt) == 0:
        return correct
    iou = iou_matrix(gt, pred[:, :4])                        # [m, n]
    iou = iou * (gt_cls[:, None] == pred[None, :, 5].astype(int))
    for k, t in enumerate(THRESHOLDS):
        g, p = np.nonzero(iou >= t)
        if len(g) == 0:
            continue
        vals = iou[g, p]
        order = np.lexsort((p, -vals))                        # IoU descending (ties: lower index)
        g, p = g[order], p[order]
        keep = {}
        for gi, pi in zip(g, p):                              # first (best IoU) per prediction
            keep.setdefault(pi, gi)
        owner = {}
        for pi in sorted(keep):                               # lowest prediction index per ground truth
            owner.setdefault(keep[pi], pi)
        for pi in owner.values():
            correct[pi, k] = True
    return correct


def ap_of(recall, precision):
    mrec = np.concatenate(([0.0], recall, [1.0]))
    mpre = np.concatenate(([1.0], precision, [0.0]))
    mpre = np.flip(np.maximum.accumulate(np.flip(mpre)))
    x = np.linspace(0, 1, 101)
    return np.trapz(np.interp(x, mrec, mpre), x)


def smooth(y, f):
    nf = round(len(y) * f * 2) // 2 + 1
    p = np.ones(nf // 2)
    yp = np.concatenate((p * y[0], y, p * y[-1]))
    return np.convolve(yp, np.ones(nf) / nf, mode="valid")


def metrics(tp, conf, pred_cls, target_cls, eps=1e-16):
    i = np.argsort(-conf, kind="stable")
    tp, conf, pred_cls = tp[i], conf[i], pred_cls[i]
    classes, nt = np.unique(target_cls, return_counts=True)
    x = np.linspace(0, 1, 1000)
    ap = np.zeros((len(classes), 10))
    pc, rc = np.zeros((len(classes), 1000)), np.zeros((len(classes), 1000))
    for ci, c in enumerate(classes):
        sel = pred_cls == c
        if sel.sum() == 0:
            continue
        tpc = tp[sel].cumsum(0)
        fpc = (1 - tp[sel]).cumsum(0)
        recall = tpc / (nt[ci] + eps)
        precision = tpc / (tpc + fpc)
        rc[ci] = np.interp(-x, -conf[sel], recall[:, 0], left=0)
        pc[ci] = np.interp(-x, -conf[sel], precision[:, 0], left=1)
        for j in range(10):
            ap[ci, j] = ap_of(recall[:, j], precision[:, j])
    f1 = 2 * pc * rc / (pc + rc + eps)
    best = smooth(f1.mean(0), 0.1).argmax()
    return dict(classes=classes.tolist(), ap50=ap[:, 0].tolist(), ap=ap.mean(1).tolist(),
                p=pc[:, best].tolist(), r=rc[:, best].tolist(), best_index=int(best),
                mp=float(pc[:, best].mean()), mr=float(rc[:, best].mean()),
                map50=float(ap[:, 0].mean()), map75=float(ap[:, 5].mean()), map=float(ap.mean()))


images, tps, confs, pcls, tcls = [], [], [], [], []
for _ in range(IMAGES):
    m = int(rng.integers(0, 8))
    xy = rng.uniform(0, 500, (m, 2))
    wh = rng.uniform(10, 150, (m, 2))
    gt = np.concatenate((xy, xy + wh), 1).astype(np.float32)
    gt_cls = rng.integers(0, NC, m)
    preds = []
    for _ in range(int(rng.integers(0, 20))):
        r = rng.random()
        if m and r < 0.75:                                    # near a ground truth (often a duplicate)
            j = int(rng.integers(0, m))
            box = gt[j] + rng.normal(0, 0.06, 4) * np.concatenate((wh[j], wh[j]))
            cls = gt_cls[j] if rng.random() < 0.85 else rng.integers(0, NC)
        else:                                                 # background
            p0 = rng.uniform(0, 500, 2)
            box = np.concatenate((p0, p0 + rng.uniform(10, 100, 2)))
            cls = rng.integers(0, NC)
        preds.append([*box, float(rng.random()), float(cls)])
    pred = np.array(preds, dtype=np.float32).reshape(-1, 6)
    pred = pred[np.argsort(-pred[:, 4], kind="stable")]
    tp = match(pred, gt, gt_cls)
    images.append(dict(pred=pred.flatten().tolist(), gt=gt.flatten().tolist(), cls=gt_cls.tolist(),
                       tp=tp.flatten().astype(int).tolist()))
    tps.append(tp); confs.append(pred[:, 4]); pcls.append(pred[:, 5].astype(int)); tcls.append(gt_cls)

expected = metrics(np.concatenate(tps), np.concatenate(confs), np.concatenate(pcls), np.concatenate(tcls))
with open("metrics_reference.json", "w") as f:
    json.dump(dict(nc=NC, images=images, expected=expected), f)
print(expected["map50"], expected["map"], expected["mp"], expected["mr"])
