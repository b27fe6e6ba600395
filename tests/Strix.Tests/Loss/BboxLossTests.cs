using Strix.Loss;
using static TorchSharp.torch;

namespace Strix.Tests.Loss;

public class BboxLossTests
{
    /// <summary>[4·16] logits putting probability p3 on bin 3 and 1 − p3 on bin 4 of every side.</summary>
    static Tensor TwoBinLogits(double p3)
    {
        var l = Enumerable.Repeat(-60.0f, 64).ToArray();
        for (int s = 0; s < 4; s++) { l[s * 16 + 3] = (float)Math.Log(p3); l[s * 16 + 4] = (float)Math.Log(1 - p3); }
        return tensor(l);
    }

    static double TwoBinDfl(double p3, double t) => -((4 - t) * Math.Log(p3) + (t - 3) * Math.Log(1 - p3));

    [Fact]
    public void DflOfKnownDistributionMatchesHandComputation()
    {
        // Mass 0.7 on bin 3 and 0.3 on bin 4; targets per side 3.3, 3.0, 3.5, 3.9.
        // Side loss = −[(4 − t)·ln 0.7 + (t − 3)·ln 0.3]; the anchor's loss is the mean of the 4 sides.
        var bl = new BboxLoss(16);
        using var logits = TwoBinLogits(0.7).reshape(1, 64);
        double[] t = { 3.3, 3.0, 3.5, 3.9 };
        using var target = tensor(t.Select(x => (float)x).ToArray()).reshape(1, 4);
        using var loss = bl.DistributionFocalLoss(logits, target);
        Assert.Equal(new long[] { 1 }, loss.shape);
        double expected = t.Average(x => TwoBinDfl(0.7, x));
        Assert.Equal(expected, loss.item<float>(), 5);
        Assert.Equal(0.6108643, TwoBinDfl(0.7, 3.3), 6);     // = entropy of (0.7, 0.3): the minimum
    }

    [Fact]
    public void DflIsStationaryWhenTheExpectedDistanceEqualsTheTarget()
    {
        // E = 3·0.7 + 4·0.3 = 3.3: gradient p − (0.7·e₃ + 0.3·e₄) vanishes.
        var bl = new BboxLoss(16);
        using var logits = TwoBinLogits(0.7).reshape(1, 64).requires_grad_(true);
        using var target = full(new long[] { 1, 4 }, 3.3f);
        using var loss = bl.DistributionFocalLoss(logits, target);
        loss.sum().backward();
        Assert.True(logits.grad!.abs().max().item<float>() < 1e-5);
        // Any other target pulls the distribution.
        using var logits2 = TwoBinLogits(0.7).reshape(1, 64).requires_grad_(true);
        using var loss2 = bl.DistributionFocalLoss(logits2, full(new long[] { 1, 4 }, 3.8f));
        loss2.sum().backward();
        Assert.True(logits2.grad!.abs().max().item<float>() > 0.05);
    }

    [Fact]
    public void BoxAndDflLossesAreWeightedByTargetScoreAndNormalised()
    {
        // One image, two anchors (grid units). Anchor 0 is foreground with target box 3.3 away on
        // every side and target scores summing to 0.8; anchor 1 is background with garbage values.
        var bl = new BboxLoss(16);
        using var anchors = tensor(new float[] { 5.5f, 5.5f, 1.5f, 1.5f }).reshape(2, 2);
        using var predDist = stack(new[] { TwoBinLogits(0.7), randn(64) * 10 }).unsqueeze(0);       // [1, 2, 64]
        using var predBoxes = tensor(new float[] { 2, 2, 8, 8, 0, 0, 50, 50 }).reshape(1, 2, 4);
        using var targetBoxes = tensor(new float[] { 2.2f, 2.2f, 8.8f, 8.8f, 9, 9, 9.5f, 9.5f }).reshape(1, 2, 4);
        using var targetScores = tensor(new float[] { 0.6f, 0.2f, 0.9f, 0.9f }).reshape(1, 2, 2);
        using var fg = tensor(new[] { true, false }).reshape(1, 2);
        using var tss = tensor(2.0f);
        var (iou, dfl) = bl.Compute(predDist, predBoxes, anchors, targetBoxes, targetScores, tss, fg);
        using var _i = iou; using var _d = dfl;

        // CIoU of (2,2,8,8) vs (2.2,2.2,8.8,8.8): inter 5.8², union 36 + 6.6² − 5.8², enclosing 6.8×6.8,
        // centres (5,5) and (5.5,5.5): ρ² = 0.5; both square so v = 0.
        double inter = 5.8 * 5.8, union = 36 + 6.6 * 6.6 - inter;
        double ciou = inter / union - (0.25 + 0.25) / (2 * 6.8 * 6.8);
        Assert.Equal((1 - ciou) * 0.8 / 2.0, iou.item<float>(), 5);
        Assert.Equal(TwoBinDfl(0.7, 3.3) * 0.8 / 2.0, dfl.item<float>(), 5);
    }

    [Fact]
    public void DflClampsDistantTargetsIntoTheLastBinPair()
    {
        // A target 20 cells away is clamped to 14.99: weights 0.01 on bin 14 and 0.99 on bin 15.
        var bl = new BboxLoss(16);
        var z = Enumerable.Range(0, 16).Select(i => 0.1 * i).ToArray();                 // logits of each side
        double logZ = Math.Log(z.Sum(Math.Exp));
        double expected = 0.01 * (logZ - z[14]) + 0.99 * (logZ - z[15]);
        using var anchors = tensor(new float[] { 30.5f, 30.5f }).reshape(1, 2);
        using var logits = tensor(Enumerable.Repeat(z, 4).SelectMany(x => x).Select(x => (float)x).ToArray()).reshape(1, 1, 64);
        using var box = tensor(new float[] { 10.5f, 10.5f, 50.5f, 50.5f }).reshape(1, 1, 4);
        using var scores = ones(1, 1, 1);
        using var fg = ones(1, 1, dtype: ScalarType.Bool);
        using var tss = tensor(1.0f);
        var (iou, dfl) = bl.Compute(logits, box, anchors, box, scores, tss, fg);
        using var _i = iou; using var _d = dfl;
        Assert.Equal(expected, dfl.item<float>(), 5);
        Assert.Equal(0.0, iou.item<float>(), 5);
    }

    [Fact]
    public void NoForegroundGivesExactZero()
    {
        var bl = new BboxLoss(16);
        using var anchors = rand(6, 2) * 8;
        using var predDist = randn(2, 6, 64).requires_grad_(true);
        using var boxes = rand(2, 6, 4);
        using var scores = rand(2, 6, 3);
        using var fg = zeros(2, 6, dtype: ScalarType.Bool);
        var (iou, dfl) = bl.Compute(predDist, boxes, anchors, boxes, scores, tensor(1.0f), fg);
        using var _i = iou; using var _d = dfl;
        Assert.Equal(0f, iou.item<float>());
        Assert.Equal(0f, dfl.item<float>());
    }
}
