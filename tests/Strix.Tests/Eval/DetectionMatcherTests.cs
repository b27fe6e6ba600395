using Strix.Eval;
using static TorchSharp.torch;

namespace Strix.Tests.Eval;

public class DetectionMatcherTests
{
    const int T = 10;
    static float[] Pred(params (float x1, float y1, float x2, float y2, float conf, int cls)[] p) =>
        p.SelectMany(r => new[] { r.x1, r.y1, r.x2, r.y2, r.conf, r.cls }).ToArray();
    static bool[] Row(bool[] tp, int i) => tp.Skip(i * T).Take(T).ToArray();

    [Fact]
    public void ThresholdsAreCocoTen()
    {
        Assert.Equal(new[] { 0.5f, 0.55f, 0.6f, 0.65f, 0.7f, 0.75f, 0.8f, 0.85f, 0.9f, 0.95f }, DetectionMatcher.IouThresholds);
    }

    [Fact]
    public void PartialOverlapIsCorrectUpToItsIou()
    {
        // gt [0,0,10,10], prediction [0,0,10,6.2]: IoU = 62/100 = 0.62 → correct at 0.50, 0.55, 0.60 only.
        var tp = DetectionMatcher.Match(Pred((0, 0, 10, 6.2f, 0.9f, 0)), new float[] { 0, 0, 10, 10 }, new[] { 0 });
        Assert.Equal(new[] { true, true, true, false, false, false, false, false, false, false }, tp);
    }

    [Fact]
    public void WrongClassNeverMatches()
    {
        var tp = DetectionMatcher.Match(Pred((0, 0, 10, 10, 0.9f, 1)), new float[] { 0, 0, 10, 10 }, new[] { 0 });
        Assert.All(tp, Assert.False);
    }

    [Fact]
    public void DuplicateOfAMatchedGroundTruthIsFalsePositive()
    {
        var pred = Pred((0, 0, 10, 10, 0.9f, 0), (0, 0, 10, 10, 0.8f, 0), (0, 0, 10, 10, 0.7f, 0));
        var tp = DetectionMatcher.Match(pred, new float[] { 0, 0, 10, 10 }, new[] { 0 });
        Assert.All(Row(tp, 0), Assert.True);
        Assert.All(Row(tp, 1), Assert.False);
        Assert.All(Row(tp, 2), Assert.False);
    }

    [Fact]
    public void ContestedGroundTruthGoesToTheMostConfidentPrediction()
    {
        // Ultralytics' rule: each prediction picks its best ground truth; of several predictions picking
        // the same one, the most confident wins even with the lower IoU, and the loser does not fall back.
        // gt A [0,0,10,10]; p0 (conf .9) IoU .8 with A; p1 (conf .6) IoU 1.0 with A.
        var pred = Pred((0, 0, 10, 8, 0.9f, 0), (0, 0, 10, 10, 0.6f, 0));
        var tp = DetectionMatcher.Match(pred, new float[] { 0, 0, 10, 10 }, new[] { 0 });
        Assert.Equal(new[] { true, true, true, true, true, true, true, false, false, false }, Row(tp, 0)); // IoU .8
        // Above IoU .8 p0 is no candidate, so p1 is alone and correct: thresholds are decided independently.
        Assert.Equal(new[] { false, false, false, false, false, false, false, true, true, true }, Row(tp, 1));

        // Given in the opposite order, the answer follows the confidence, not the position.
        var swapped = Pred((0, 0, 10, 10, 0.6f, 0), (0, 0, 10, 8, 0.9f, 0));
        var tp2 = DetectionMatcher.Match(swapped, new float[] { 0, 0, 10, 10 }, new[] { 0 });
        Assert.Equal(Row(tp, 0), Row(tp2, 1));
        Assert.Equal(Row(tp, 1), Row(tp2, 0));
    }

    [Fact]
    public void EachPredictionTakesItsHighestIouGroundTruth()
    {
        // Two gts side by side; each prediction overlaps both, but more one of them.
        var gt = new float[] { 0, 0, 10, 10, 8, 0, 18, 10 };
        var pred = Pred((1, 0, 11, 10, 0.9f, 0), (7, 0, 17, 10, 0.8f, 0));
        var tp = DetectionMatcher.Match(pred, gt, new[] { 0, 0 });
        Assert.True(tp[0 * T]); Assert.True(tp[1 * T]); // both matched at 0.5, to different gts
    }

    [Fact]
    public void EmptyInputs()
    {
        Assert.Empty(DetectionMatcher.Match(Array.Empty<float>(), new float[] { 0, 0, 1, 1 }, new[] { 0 }));
        Assert.All(DetectionMatcher.Match(Pred((0, 0, 1, 1, 0.5f, 0)), Array.Empty<float>(), Array.Empty<int>()), Assert.False);
    }

    [Fact]
    public void TensorFormAgreesWithSpanForm()
    {
        var pred = Pred((0, 0, 10, 8, 0.9f, 0), (0, 0, 10, 10, 0.6f, 0), (20, 20, 30, 30, 0.5f, 1));
        var gt = new float[] { 0, 0, 10, 10, 21, 21, 30, 30 };
        var cls = new[] { 0, 1 };
        using var tp = DetectionMatcher.Match(tensor(pred, new long[] { 3, 6 }), tensor(gt, new long[] { 2, 4 }), tensor(new float[] { 0, 1 }));
        Assert.Equal(new long[] { 3, 10 }, tp.shape);
        Assert.Equal(DetectionMatcher.Match(pred, gt, cls), tp.data<bool>().ToArray());
    }

    [Fact]
    public void RejectsMalformedRows()
    {
        Assert.Throws<ArgumentException>(() => DetectionMatcher.Match(new float[5], new float[4], new[] { 0 }));
        Assert.Throws<ArgumentException>(() => DetectionMatcher.Match(new float[6], new float[5], new[] { 0 }));
    }
}
