using Strix.Data;
using Strix.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Strix.Eval;

/// <summary>
/// Oriented boxes as (cx, cy, w, h, angle in radians), Ultralytics' xywhr: their corners, the regular form, ProbIoU
/// (1 − the Hellinger distance between the boxes seen as Gaussians, Llerena et al. 2021: smooth in the angle, what
/// Ultralytics' OBB NMS and loss use) and rotated NMS.
/// </summary>
public static class RotatedBoxes
{
    /// <summary>
    /// The regular form of [n, 5] boxes: w ≥ h (a box with w &lt; h swaps them and turns by π/2), angle in [0, π) — one
    /// form per rectangle, so boxes compare and print alike.
    /// </summary>
    public static Tensor Regularize(Tensor xywhr)
    {
        using var scope = NewDisposeScope();
        var p = xywhr.unbind(-1);
        var (x, y, w, h, t) = (p[0], p[1], p[2], p[3], p[4]);
        var swap = w.lt(h);
        var w2 = where(swap, h, w);
        var h2 = where(swap, w, h);
        using var pi = Math.PI.ToScalar();
        var t2 = where(swap, t.Plus(Math.PI / 2), t).remainder(pi);
        return stack(new[] { x, y, w2, h2, t2 }, -1).MoveToOuterDisposeScope();
    }

    /// <summary>[n, 5] xywhr → [n, 4, 2] corners, in order: centre ± the rotated half-axes (x1y1 … x4y4 as Ultralytics' xyxyxyxy).</summary>
    public static Tensor Corners(Tensor xywhr)
    {
        using var scope = NewDisposeScope();
        var p = xywhr.unbind(-1);
        var (cx, cy, w, h, t) = (p[0], p[1], p[2], p[3], p[4]);
        var cos = t.cos();
        var sin = t.sin();
        // Half-axes: along the width (w/2)(cos, sin), along the height (h/2)(−sin, cos).
        var wx = w.Over(2.0).mul(cos);
        var wy = w.Over(2.0).mul(sin);
        var hx = h.Over(2.0).mul(sin).neg();
        var hy = h.Over(2.0).mul(cos);
        Tensor Pt(Tensor sx, Tensor sy) => stack(new[] { cx.Plus(sx), cy.Plus(sy) }, -1);
        var c1 = Pt(wx.Plus(hx), wy.Plus(hy));
        var c2 = Pt(wx.sub(hx), wy.sub(hy));
        var c3 = Pt(wx.neg().sub(hx), wy.neg().sub(hy));
        var c4 = Pt(wx.neg().Plus(hx), wy.neg().Plus(hy));
        return stack(new[] { c1, c2, c3, c4 }, -2).MoveToOuterDisposeScope();
    }

    /// <summary>A box's covariance terms as a Gaussian (a, b, c = Σxx, Σyy, Σxy) from w²/12, h²/12 and the angle.</summary>
    static (Tensor A, Tensor B, Tensor C) Covariance(Tensor xywhr)
    {
        using var scope = NewDisposeScope();
        var p = xywhr.unbind(-1);
        var a = p[2].mul(p[2]).Over(12.0);
        var b = p[3].mul(p[3]).Over(12.0);
        var cos = p[4].cos();
        var sin = p[4].sin();
        var cos2 = cos.mul(cos);
        var sin2 = sin.mul(sin);
        var ca = a.mul(cos2).Plus(b.mul(sin2));
        var cb = a.mul(sin2).Plus(b.mul(cos2));
        var cc = a.sub(b).mul(cos).mul(sin);
        return (ca.MoveToOuterDisposeScope(), cb.MoveToOuterDisposeScope(), cc.MoveToOuterDisposeScope());
    }

    /// <summary>ProbIoU of every box of <paramref name="a"/> [n, 5] with every box of <paramref name="b"/> [m, 5]: [n, m] in [0, 1].</summary>
    public static Tensor ProbIou(Tensor a, Tensor b, double eps = 1e-7)
    {
        using var scope = NewDisposeScope();
        return ProbIouPairs(a.unsqueeze(1), b.unsqueeze(0), eps).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// ProbIoU of boxes paired element by element: <paramref name="a"/> and <paramref name="b"/> [..., 5] broadcast
    /// against each other, the result has their shape without the last dimension. Differentiable (the OBB box loss).
    /// </summary>
    public static Tensor ProbIouPairs(Tensor a, Tensor b, double eps = 1e-7)
    {
        using var scope = NewDisposeScope();
        var pa = a.unbind(-1);
        var pb = b.unbind(-1);
        var (a1, b1, c1) = Covariance(a);
        var (a2, b2, c2) = Covariance(b);
        var sa = a1.Plus(a2); var sb = b1.Plus(b2); var sc = c1.Plus(c2);
        var dx = pa[0].sub(pb[0]); var dy = pa[1].sub(pb[1]);
        var det = sa.mul(sb).sub(sc.mul(sc));
        var t1 = sa.mul(dy.mul(dy)).Plus(sb.mul(dx.mul(dx))).div(det.Plus(eps)).Times(0.25);
        var t2 = sc.mul(dx.neg()).mul(dy).div(det.Plus(eps)).Times(0.5);
        var own1 = a1.mul(b1).sub(c1.mul(c1)).clamp_min(Scalars.Zero);
        var own2 = a2.mul(b2).sub(c2.mul(c2)).clamp_min(Scalars.Zero);
        var t3 = det.div(own1.mul(own2).sqrt().Times(4.0).Plus(eps)).Plus(eps).log().Times(0.5);
        using var lo = eps.ToScalar();
        using var hi = 100.0.ToScalar();
        var bd = t1.Plus(t2).Plus(t3).clamp(lo, hi);
        var hd = bd.neg().exp().SubtractedFrom(1.0).Plus(eps).sqrt();
        return hd.SubtractedFrom(1.0).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Rotated NMS as Ultralytics' <c>nms_rotated</c>: boxes sorted by score, and box j kept when its ProbIoU with every
    /// higher-scored box (kept or not) is under <paramref name="iou"/>. Returns the kept indices, best first. The overlaps
    /// are measured a block of rows at a time, so thousands of candidates never need an n × n matrix at once.
    /// </summary>
    public static long[] Nms(Tensor xywhr, Tensor scores, double iou)
    {
        long n = xywhr.shape[0];
        if (n == 0) return Array.Empty<long>();
        using var scope = NewDisposeScope();
        var order = scores.argsort(descending: true);
        var sorted = xywhr.to(ScalarType.Float32).index_select(0, order);
        var best = zeros(n, device: sorted.device);                       // highest overlap with a better-scored box
        long block = Math.Max(1, MaxPairsPerBlock / n);
        for (long r0 = 0; r0 < n; r0 += block)
        {
            using var inner = NewDisposeScope();
            long rows = Math.Min(block, n - r0);
            // Rows r0.. against columns r0..: only a column after its row (a lower score) can be suppressed by it.
            var overlaps = ProbIou(sorted.narrow(0, r0, rows), sorted.narrow(0, r0, n - r0)).triu(1);
            var tail = best.narrow(0, r0, n - r0);
            tail.copy_(maximum(tail, overlaps.max(0).values));
        }
        using var threshold = iou.ToScalar();
        var keep = best.lt(threshold).nonzero().squeeze(-1);
        return order.index_select(0, keep).data<long>().ToArray();
    }

    /// <summary>Pairs of boxes whose overlaps one block of <see cref="Nms"/> measures at once.</summary>
    const long MaxPairsPerBlock = 1 << 21;

    /// <summary>The smallest-area rectangle around points, as xywhr in the regular form (<see cref="Polygons.MinAreaRect"/>).</summary>
    public static (float Cx, float Cy, float W, float H, float Angle) MinAreaRect(ReadOnlySpan<float> xy) => Polygons.MinAreaRect(xy);
}
