using Strix.Loss;
using static TorchSharp.torch;

namespace Strix.Tests.Loss;

/// <summary>The OBB loss: rotated candidates, target padding, and the box terms on a prediction built to be exact.</summary>
public class ObbLossTests
{
    [Fact]
    public void An_anchor_is_a_candidate_only_inside_the_rotated_rectangle_not_its_bounds()
    {
        // A box 8 × 2 at 45° centred on (10, 10): its long axis runs along (1, 1).
        using var gt = tensor(new float[] { 10, 10, 8, 2, MathF.PI / 4 }, new long[] { 1, 1, 5 });
        using var anchors = tensor(new float[] { 10, 10, 12.5f, 12.5f, 12.5f, 7.5f, 13, 13 }, new long[] { 4, 2 });
        using var inside = RotatedTaskAlignedAssigner.CandidatesInRotatedGts(anchors, gt);
        // (12.5, 12.5) is 3.54 along the long axis (half-length 4): inside. (12.5, 7.5) is 3.54 across it (half-width 1):
        // outside, though inside the axis-aligned bounds (±3.54). (13, 13) is 4.24 along it: outside.
        Assert.Equal(new[] { true, true, false, false }, inside.data<bool>().ToArray());
    }

    [Fact]
    public void Targets_are_padded_per_image_in_pixels_and_tiny_ones_left_out()
    {
        using var idx = tensor(new float[] { 1, 0, 1, 1 });
        using var cls = tensor(new float[] { 2, 1, 0, 1 });
        // Normalised to a 100 (h) × 200 (w) input; the last is 1 px wide there and is dropped.
        using var r = tensor(new float[]
        {
            0.5f, 0.5f, 0.1f, 0.2f, 0.3f,
            0.25f, 0.25f, 0.05f, 0.1f, 0,
            0.1f, 0.2f, 0.02f, 0.04f, 1.5f,
            0.5f, 0.5f, 0.005f, 0.5f, 0,
        }, new long[] { 4, 5 });
        using var imgsz = tensor(new float[] { 100, 200 });
        var (labels, boxes) = ObbLoss.BuildTargets(idx, cls, r, 2, imgsz, CPU, 3);
        using (labels) using (boxes)
        {
            Assert.Equal(new long[] { 2, 2, 5 }, boxes.shape);
            Assert.Equal(new float[] { 1, 0, 2, 0 }, labels.reshape(-1).data<float>().ToArray());
            var b = boxes.reshape(-1).data<float>().ToArray().Select(v => MathF.Round(v, 4)).ToArray();
            Assert.Equal(new float[]
            {
                50, 25, 10, 10, 0,     0, 0, 0, 0, 0,       // image 0: one target, one padding row
                100, 50, 20, 20, 0.3f, 20, 20, 4, 4, 1.5f,  // image 1: in input order, the tiny one gone
            }, b);
        }
    }

    /// <summary>One level of 4×4 cells at stride 8 (a 32-px input), every anchor predicting sides of <paramref name="side"/> cells along its axes at angle <paramref name="angle"/>.</summary>
    static Tensor[] Outputs(int w, int h, float angle, float classLogit = 8)
    {
        const int regMax = 16;
        var o = full(new long[] { 1, 4 * regMax + 1 + 1, 4, 4 }, -30f);
        // Bins: l = r = w/2, t = b = h/2, each a saturated one-hot so the expectation is exact.
        int[] sides = { w / 2, h / 2, w / 2, h / 2 };
        for (int s = 0; s < 4; s++) o[0, s * regMax + sides[s]].fill_(30f);
        o[0, 4 * regMax].fill_(classLogit);
        // The head's angle is (sigmoid(raw) − ¼)·π: raw = logit(angle/π + ¼).
        double p = angle / Math.PI + 0.25;
        o[0, 4 * regMax + 1].fill_((float)Math.Log(p / (1 - p)));
        return new[] { o };
    }

    [Fact]
    public void A_prediction_equal_to_its_target_costs_no_box_or_dfl_loss_and_a_turned_one_does()
    {
        var loss = new ObbLoss(new DetectionLoss(1, new[] { 8f }, topk: 1));
        using var idx = zeros(1);
        using var cls = zeros(1);
        // Target: centre (12, 12) px = anchor (1.5, 1.5) cells, 32 × 16 px = 4 × 2 cells, at 0.3 rad.
        using var target = tensor(new float[] { 12 / 32f, 12 / 32f, 1f, 0.5f, 0.3f }, new long[] { 1, 5 });
        var exact = Outputs(4, 2, 0.3f);
        var (l1, i1) = loss.Compute(exact, idx, cls, target);
        var turned = Outputs(4, 2, 0.9f);
        var (l2, i2) = loss.Compute(turned, idx, cls, target);
        var a = i1.data<float>().ToArray();
        var b = i2.data<float>().ToArray();
        // ProbIoU of a box with itself is 1 − √(2·1e-7) (its epsilons, as Ultralytics'): 7.5 × 4.5e-4 = 0.0034.
        Assert.True(a[0] < 0.005f, $"box loss of an exact prediction: {a[0]}");
        Assert.True(a[2] < 1e-3f, $"dfl loss of an exact prediction: {a[2]}");
        Assert.True(b[0] > 0.1f, $"box loss of a prediction turned by 0.6 rad: {b[0]}");
        Assert.Equal(a[2], b[2], 5); // DFL reads the upright sides only
        Assert.True(a[1] > 0); // the other anchors are background with class logit 8
        foreach (var t in exact.Concat(turned)) t.Dispose();
        l1.Dispose(); l2.Dispose(); i1.Dispose(); i2.Dispose();
    }

    [Fact]
    public void Without_targets_only_the_class_term_remains_and_gradients_reach_the_angle()
    {
        var loss = new ObbLoss(new DetectionLoss(1, new[] { 8f }));
        var outs = Outputs(4, 2, 0.3f);
        outs[0].requires_grad_(true);
        using var none = zeros(0);
        using var noBoxes = zeros(0, 5);
        var (l, items) = loss.Compute(outs, none, none, noBoxes);
        var v = items.data<float>().ToArray();
        Assert.Equal(0f, v[0]);
        Assert.Equal(0f, v[2]);
        Assert.True(v[1] > 0);
        l.backward();
        Assert.NotNull(outs[0].grad);
        using var idx = zeros(1);
        using var target = tensor(new float[] { 12 / 32f, 12 / 32f, 1f, 0.5f, 0.6f }, new long[] { 1, 5 });
        outs[0].grad!.zero_();
        var (l2, _) = loss.Compute(outs, idx, idx, target);
        l2.backward();
        // The angle channel (last) gets a gradient at the assigned anchors: the box loss pulls 0.3 rad toward 0.6.
        Assert.True(outs[0].grad![0, 4 * 16 + 1].abs().sum().item<float>() > 0);
    }
}
