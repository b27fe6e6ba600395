using Strix.Eval;

namespace Strix.Tests.Eval;

public class TrackingMetricsTests
{
    static IdentifiedBox B(int id, double x, double y = 0, double s = 10) => new(id, x, y, x + s, y + s);
    static IReadOnlyList<IdentifiedBox> F(params IdentifiedBox[] b) => b;

    [Fact]
    public void Clear_matching_maximises_the_summed_iou_not_the_margin_over_the_threshold()
    {
        // g1–h1 IoU 0.9, g1–h2 and g2–h1 0.55, g2–h2 0.22: two matches (1.1) beat the single best pair (0.9), as in TrackEval.
        double d9 = 10.0 / 19, d55 = 4.5 / 1.55;
        var gt = new[] { F(B(1, 0), B(2, d9 + d55)) };
        var hyp = new[] { F(B(7, d9), B(8, -d55)) };
        var m = TrackingMetrics.Compute(gt, hyp);
        Assert.Equal(2, m.Matches);
        Assert.Equal(0, m.Misses);
        Assert.Equal(0, m.FalsePositives);
        Assert.Equal(0.55, m.Motp, 6);
    }

    [Fact]
    public void Perfect_tracking_scores_one()
    {
        var gt = Enumerable.Range(0, 5).Select(f => F(B(1, f * 5), B(2, 100 + f * 5))).ToList();
        var hyp = Enumerable.Range(0, 5).Select(f => F(B(7, f * 5 + 1), B(9, 100 + f * 5))).ToList();
        var m = TrackingMetrics.Compute(gt, hyp);
        Assert.Equal(1.0, m.Mota);
        Assert.Equal(1.0, m.Idf1);
        Assert.Equal(0, m.IdSwitches);
        Assert.Equal(10, m.Matches);
        // IoU of a 10×10 box shifted by 1: 90 / 110.
        Assert.Equal((5 * (90.0 / 110) + 5) / 10, m.Motp, 9);
    }

    [Fact]
    public void An_identity_switch_miss_and_false_positive_are_counted_as_by_hand()
    {
        // One object over 6 frames. Hypothesis id 1 for frames 0–2, id 2 for frames 3–5 (one switch);
        // frame 4 has no hypothesis near it (a miss) but a stray box far away (a false positive).
        var gt = Enumerable.Range(0, 6).Select(f => F(B(1, 10 * f))).ToList();
        var hyp = new List<IReadOnlyList<IdentifiedBox>>
        {
            F(B(1, 0)), F(B(1, 10)), F(B(1, 20)), F(B(2, 30)), F(B(2, 500)), F(B(2, 50)),
        };
        var m = TrackingMetrics.Compute(gt, hyp);
        Assert.Equal(6, m.GroundTruthBoxes);
        Assert.Equal(5, m.Matches);
        Assert.Equal(1, m.Misses);
        Assert.Equal(1, m.FalsePositives);
        Assert.Equal(1, m.IdSwitches);
        Assert.Equal(1 - 3.0 / 6, m.Mota, 12);
        // Best identity pairing: gt 1 ↔ hyp 1 (3 frames). IDTP 3, IDFN 6 − 3, IDFP 6 − 3: IDF1 = 6 / 12.
        Assert.Equal(3, m.IdTruePositives);
        Assert.Equal(0.5, m.Idf1, 12);
    }

    [Fact]
    public void A_continuing_match_is_kept_even_when_another_hypothesis_overlaps_more()
    {
        // Frame 1: hyp 1 still overlaps gt (IoU 0.6 > 0.5) while hyp 2 sits exactly on it; CLEAR-MOT keeps hyp 1 (no switch).
        var gt = new List<IReadOnlyList<IdentifiedBox>> { F(B(1, 0)), F(B(1, 0)) };
        var hyp = new List<IReadOnlyList<IdentifiedBox>> { F(B(1, 0)), F(new IdentifiedBox(1, 0, 0, 10, 6), B(2, 0)) };
        var m = TrackingMetrics.Compute(gt, hyp);
        Assert.Equal(0, m.IdSwitches);
        Assert.Equal(1, m.FalsePositives);
    }

    [Fact]
    public void Hota_is_one_for_perfect_tracking_and_as_computed_by_hand_for_a_switch()
    {
        var gt = Enumerable.Range(0, 4).Select(f => F(B(1, f * 20), B(2, 200))).ToList();
        var perfect = TrackingMetrics.Compute(gt, gt.Select(fr => F(fr.Select(b => b with { Id = b.Id + 10 }).ToArray())).ToList());
        Assert.Equal(1.0, perfect.Hota, 12);
        Assert.Equal(1.0, perfect.DetA, 12);
        Assert.Equal(1.0, perfect.AssA, 12);

        // One object over two frames, exactly covered, by hypothesis 1 then 2: DetA 1; each pair holds one of the
        // object's two frames and its own one: A = 1 / (2 + 1 − 1) = 0.5, so AssA 0.5 and HOTA √0.5.
        var one = new[] { F(B(1, 0)), F(B(1, 0)) };
        var m = TrackingMetrics.Compute(one, new[] { F(B(1, 0)), F(B(2, 0)) });
        Assert.Equal(1.0, m.DetA, 12);
        Assert.Equal(0.5, m.AssA, 12);
        Assert.Equal(Math.Sqrt(0.5), m.Hota, 12);

        // A box shifted to IoU 0.6 counts as a true positive only for α ≤ 0.6 (12 of the 19 thresholds): DetA 12/19.
        var shifted = TrackingMetrics.Compute(new[] { F(B(1, 0)) }, new[] { F(new IdentifiedBox(5, 0, 0, 10, 6)) });
        Assert.Equal(12.0 / 19, shifted.DetA, 12);
        Assert.Equal(12.0 / 19, shifted.Hota, 12);
    }

    [Fact]
    public void Mismatched_frame_counts_and_duplicate_ids_are_refused()
    {
        Assert.Throws<ArgumentException>(() => TrackingMetrics.Compute(new[] { F() }, new[] { F(), F() }));
        Assert.Throws<ArgumentException>(() => TrackingMetrics.Compute(new[] { F(B(1, 0), B(1, 50)) }, new[] { F() }));
    }
}
