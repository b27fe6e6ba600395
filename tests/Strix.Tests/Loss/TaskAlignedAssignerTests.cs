using Strix.Loss;
using Strix.Nn;
using static TorchSharp.torch;

namespace Strix.Tests.Loss;

public class TaskAlignedAssignerTests
{
    /// <summary>Anchor centres in pixels for an h×w input at strides 8, 16, 32.</summary>
    static Tensor PixelAnchors(int h, int w)
    {
        var feats = new[] { 8, 16, 32 }.Select(s => zeros(1, 1, h / s, w / s)).ToArray();
        var (pts, st) = Anchors.Make(feats, new float[] { 8, 16, 32 });
        var r = pts * st;
        foreach (var f in feats) f.Dispose();
        pts.Dispose(); st.Dispose();
        return r;
    }

    /// <summary>A 4×4 grid of anchors at 4, 12, 20, 28 px (a 32×32 image at stride 8).</summary>
    static Tensor GridAnchors()
    {
        var pts = new List<float>();
        for (int y = 0; y < 4; y++) for (int x = 0; x < 4; x++) { pts.Add(4 + 8 * x); pts.Add(4 + 8 * y); }
        return tensor(pts.ToArray()).reshape(16, 2);
    }

    static int AnchorAt(float x, float y) => (int)((y - 4) / 8) * 4 + (int)((x - 4) / 8);

    sealed record Case(Tensor Scores, Tensor PdBoxes, Tensor Anchors, Tensor Labels, Tensor GtBoxes, Tensor MaskGt, int[] Counts) : IDisposable
    {
        public void Dispose() { Scores.Dispose(); PdBoxes.Dispose(); Anchors.Dispose(); Labels.Dispose(); GtBoxes.Dispose(); MaskGt.Dispose(); }
    }

    static Case RandomCase(Random rng, int b, int m, int nc, int h = 64, int w = 96)
    {
        var anchors = PixelAnchors(h, w);
        long a = anchors.shape[0];
        var counts = new int[b];
        var labels = new float[b * m];
        var boxes = new float[b * m * 4];
        var mask = new bool[b * m];
        for (int i = 0; i < b; i++)
        {
            counts[i] = rng.Next(0, m + 1);
            for (int j = 0; j < counts[i]; j++)
            {
                double bw = 6 + rng.NextDouble() * 50, bh = 6 + rng.NextDouble() * 40;
                double cx = rng.NextDouble() * w, cy = rng.NextDouble() * h;
                int o = (i * m + j) * 4;
                boxes[o] = (float)Math.Max(0, cx - bw / 2); boxes[o + 1] = (float)Math.Max(0, cy - bh / 2);
                boxes[o + 2] = (float)Math.Min(w, cx + bw / 2); boxes[o + 3] = (float)Math.Min(h, cy + bh / 2);
                labels[i * m + j] = rng.Next(nc);
                mask[i * m + j] = true;
            }
        }
        var scores = rand(b, a, nc);
        using var centre = anchors.unsqueeze(0) + (rand(b, a, 2) - 0.5) * 16;
        using var half = rand(b, a, 2) * 24 + 2;
        var pd = cat(new[] { centre - half, centre + half }, -1);
        return new Case(scores, pd, anchors, tensor(labels).reshape(b, m, 1), tensor(boxes).reshape(b, m, 4), tensor(mask).reshape(b, m, 1), counts);
    }

    [Fact]
    public void RandomCasesKeepTheAssignmentInvariants()
    {
        var rng = new Random(12345);
        manual_seed(12345);
        int checkedFg = 0;
        for (int iter = 0; iter < 24; iter++)
        {
            int topk = new[] { 10, 3, 1 }[iter % 3];
            const int nc = 4, b = 2, m = 6;
            using var c = RandomCase(rng, b, m, nc);
            var assigner = new TaskAlignedAssigner(nc, topk);
            using var scope = NewDisposeScope();
            var (maskPos, metric, overlaps) = assigner.PositiveMask(c.Scores, c.PdBoxes, c.Anchors, c.Labels, c.GtBoxes, c.MaskGt);
            using var result = assigner.Assign(c.Scores, c.PdBoxes, c.Anchors, c.Labels, c.GtBoxes, c.MaskGt);
            long a = c.Anchors.shape[0];

            // No anchor belongs to two gts; every gt keeps at most top-k anchors; only real gts' candidates.
            Assert.True(maskPos.sum(1).max().item<float>() <= 1);
            Assert.True(maskPos.sum(-1).max().item<float>() <= topk);
            var inGts = TaskAlignedAssigner.CandidatesInGts(c.Anchors, c.GtBoxes) & c.MaskGt;
            Assert.Equal(0, (maskPos.to(ScalarType.Bool) & ~inGts).sum().item<long>());
            Assert.True(result.FgMask.eq(maskPos.sum(1) > 0).all().item<bool>());

            var fg = result.FgMask.data<bool>().ToArray();
            var idx = result.TargetGtIdx.data<long>().ToArray();
            var labels = result.TargetLabels.data<long>().ToArray();
            var tb = result.TargetBboxes.data<float>().ToArray();
            var ts = result.TargetScores.data<float>().ToArray();
            var gt = c.GtBoxes.data<float>().ToArray();
            var gl = c.Labels.data<float>().ToArray();
            var anc = c.Anchors.data<float>().ToArray();
            var ov = overlaps.data<float>().ToArray();
            var maxMetric = (metric * maskPos).amax(new long[] { -1 }).data<float>().ToArray();   // [B·M]
            var perGt = new int[b * m];
            var bestScore = new float[b * m];
            var bestOverlap = new float[b * m];
            for (int i = 0; i < b; i++)
                for (int j = 0; j < a; j++)
                {
                    long k = i * a + j;
                    if (!fg[k])
                    {
                        for (int q = 0; q < nc; q++) Assert.Equal(0f, ts[k * nc + q]);
                        continue;
                    }
                    checkedFg++;
                    long g = idx[k];
                    Assert.True(g < c.Counts[i], $"anchor {j} of image {i} given to padding gt {g}");
                    long gi = i * m + g;
                    perGt[gi]++;
                    // Target box is that gt's box and the anchor centre lies inside it.
                    for (int q = 0; q < 4; q++) Assert.Equal(gt[gi * 4 + q], tb[k * 4 + q]);
                    float ax = anc[j * 2], ay = anc[j * 2 + 1];
                    Assert.True(ax > tb[k * 4] && ay > tb[k * 4 + 1] && ax < tb[k * 4 + 2] && ay < tb[k * 4 + 3]);
                    // One-hot at the gt's class, soft value in [0, 1].
                    Assert.Equal((long)gl[gi], labels[k]);
                    for (int q = 0; q < nc; q++)
                        if (q != labels[k]) Assert.Equal(0f, ts[k * nc + q]);
                    float s = ts[k * nc + labels[k]];
                    Assert.InRange(s, 0f, 1f);
                    bestScore[gi] = Math.Max(bestScore[gi], s);
                    bestOverlap[gi] = Math.Max(bestOverlap[gi], ov[(i * m + g) * a + j]);
                }
            for (int g = 0; g < b * m; g++)
            {
                Assert.True(perGt[g] <= topk);
                // Normalisation: each gt's best anchor gets that gt's best overlap (× t/(t + 1e-9)).
                if (perGt[g] > 0) Assert.Equal(bestOverlap[g] * maxMetric[g] / (maxMetric[g] + 1e-9), bestScore[g], 5);
            }
        }
        Assert.True(checkedFg > 200, $"only {checkedFg} foreground anchors checked");
    }

    [Fact]
    public void SharedAnchorGoesToTheGtItOverlapsMost()
    {
        // gt 0 = (0,0,20,20) holds anchors (4|12, 4|12); gt 1 = (8,8,28,28) holds (12|20, 12|20).
        // Both claim anchor (12,12); its predicted box decides.
        using var anchors = GridAnchors();
        using var gts = tensor(new float[] { 0, 0, 20, 20, 8, 8, 28, 28 }).reshape(1, 2, 4);
        using var labels = tensor(new float[] { 0, 1 }).reshape(1, 2, 1);
        using var mask = ones(1, 2, 1, dtype: ScalarType.Bool);
        using var scores = full(1, 16, 2, 0.5f);
        int shared = AnchorAt(12, 12);
        var assigner = new TaskAlignedAssigner(2);
        foreach (var (predBox, winner) in new[] { (new float[] { 8, 8, 28, 28 }, 1L), (new float[] { 0, 0, 20, 20 }, 0L) })
        {
            using var pd = cat(new[] { anchors - 4, anchors + 4 }, 1).unsqueeze(0);        // 8×8 boxes on the anchors
            pd[0, shared] = tensor(predBox);
            using var r = assigner.Assign(scores, pd, anchors, labels, gts, mask);
            Assert.True(r.FgMask[0, shared].item<bool>());
            Assert.Equal(winner, r.TargetGtIdx[0, shared].item<long>());
            Assert.Equal(winner, r.TargetLabels[0, shared].item<long>());
            Assert.Equal(1f, r.TargetScores[0, shared, winner].item<float>(), 5);
            // The loser keeps nothing at that anchor, and no anchor has two targets.
            Assert.Equal(0f, r.TargetScores[0, shared, 1 - winner].item<float>());
            using var fgCount = r.FgMask.sum();
            // Every candidate has a positive metric, so all 4 + 4 − 1 distinct candidates are foreground.
            Assert.Equal(7, fgCount.item<long>());
        }
    }

    [Fact]
    public void TopKPicksTheBestAlignedAnchorsAndNormalisesTheirScores()
    {
        // One gt over the whole 32×32 grid (16 candidates), every prediction exactly the gt (IoU 1),
        // class scores rising with the anchor index. With top-k 5 the last 5 anchors win, and each
        // target = (s / s_max)^α · 1, since t = s^α · IoU^β and the best IoU is 1.
        using var anchors = GridAnchors();
        using var gts = tensor(new float[] { 0, 0, 32, 32 }).reshape(1, 1, 4);
        using var labels = tensor(new float[] { 1 }).reshape(1, 1, 1);
        using var mask = ones(1, 1, 1, dtype: ScalarType.Bool);
        var s = Enumerable.Range(0, 16).Select(i => 0.05f + 0.05f * i).ToArray();
        using var scores = stack(new[] { rand(16), tensor(s) }, 1).unsqueeze(0);       // class 1 = s
        using var pd = gts.expand(1, 16, 4).clone();
        var assigner = new TaskAlignedAssigner(2, topk: 5);
        using var r = assigner.Assign(scores, pd, anchors, labels, gts, mask);
        var fg = r.FgMask[0].data<bool>().ToArray();
        Assert.Equal(Enumerable.Range(0, 16).Select(i => i >= 11).ToArray(), fg);
        for (int i = 11; i < 16; i++)
            Assert.Equal(Math.Sqrt(s[i] / s[15]), r.TargetScores[0, i, 1].item<float>(), 5);
        using var total = r.TargetScores.sum();
        Assert.Equal(Enumerable.Range(11, 5).Sum(i => Math.Sqrt(s[i] / s[15])), total.item<float>(), 4);
    }

    [Fact]
    public void AnchorsOnTheBoxEdgeAreNotCandidates()
    {
        using var anchors = GridAnchors();
        using var gts = tensor(new float[] { 4, 4, 20, 20 }).reshape(1, 1, 4);               // edges through anchor centres
        using var inGts = TaskAlignedAssigner.CandidatesInGts(anchors, gts);
        var inside = inGts[0, 0].data<bool>().ToArray();
        Assert.Equal(1, inside.Count(x => x));
        Assert.True(inside[AnchorAt(12, 12)]);
    }

    [Fact]
    public void NoGtsMeansNoForeground()
    {
        using var anchors = GridAnchors();
        using var scores = rand(2, 16, 3);
        using var pd = anchors.repeat(1, 2).unsqueeze(0).expand(2, 16, 4).clone();
        var assigner = new TaskAlignedAssigner(3);

        // M = 0: nothing anywhere in the batch.
        using (var r = assigner.Assign(scores, pd, anchors, zeros(2, 0, 1), zeros(2, 0, 4), zeros(2, 0, 1, dtype: ScalarType.Bool)))
        {
            Assert.False(r.FgMask.any().item<bool>());
            Assert.Equal(0f, r.TargetScores.abs().sum().item<float>());
            Assert.True(r.TargetLabels.eq(3).all().item<bool>());                       // background index = nc
            Assert.Equal(new long[] { 2, 16, 3 }, r.TargetScores.shape);
            Assert.Equal(new long[] { 2, 16, 4 }, r.TargetBboxes.shape);
        }
        // M = 2 but all padding: still nothing.
        using var gts = tensor(new float[] { 0, 0, 32, 32, 0, 0, 16, 16 }).reshape(1, 2, 4).expand(2, 2, 4).clone();
        using (var r = assigner.Assign(scores, pd, anchors, zeros(2, 2, 1), gts, zeros(2, 2, 1, dtype: ScalarType.Bool)))
        {
            Assert.False(r.FgMask.any().item<bool>());
            Assert.Equal(0f, r.TargetScores.abs().sum().item<float>());
        }
    }
}
