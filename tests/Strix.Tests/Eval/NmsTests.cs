using Strix.Eval;
using static TorchSharp.torch;

namespace Strix.Tests.Eval;

public class NmsTests
{
    /// <summary>Builds a [1, 4+nc, n] prediction from (cx, cy, w, h, class scores…) rows.</summary>
    static Tensor Pred(params float[][] rows) =>
        tensor(rows.SelectMany(r => r).ToArray(), new long[] { rows.Length, rows[0].Length }).transpose(0, 1).unsqueeze(0).contiguous();

    static float[][] Rows(Tensor det)
    {
        var v = det.data<float>().ToArray();
        return Enumerable.Range(0, (int)det.shape[0]).Select(i => v[(i * 6)..(i * 6 + 6)]).ToArray();
    }

    [Fact]
    public void OverlappingSameClassKeepsTheHigherScore()
    {
        // Boxes A (0..10) and B (1..11) in x, same y: IoU = 9·10 / (100 + 100 − 90) = 90/110 = 0.818 > 0.7.
        using var p = Pred(new[] { 5f, 5, 10, 10, 0.9f, 0 }, new[] { 6f, 5, 10, 10, 0.8f, 0 }, new[] { 30f, 30, 10, 10, 0.5f, 0 });
        var d = Nms.NonMaxSuppression(p, new NmsOptions { Conf = 0.25, Iou = 0.7 });
        var rows = Rows(d[0]);
        Assert.Equal(2, rows.Length);
        Assert.Equal(new[] { 0f, 0, 10, 10, 0.9f, 0 }, rows[0]);
        Assert.Equal(new[] { 25f, 25, 35, 35, 0.5f, 0 }, rows[1]);
    }

    [Fact]
    public void IouBelowThresholdKeepsBoth()
    {
        // Shift by 3: IoU = 7·10 / (200 − 70) = 70/130 = 0.538 < 0.7 → both kept; at iou=0.5 → suppressed.
        using var p = Pred(new[] { 5f, 5, 10, 10, 0.9f }, new[] { 8f, 5, 10, 10, 0.8f });
        Assert.Equal(2, Nms.NonMaxSuppression(p, new NmsOptions { Iou = 0.7 })[0].shape[0]);
        Assert.Equal(1, Nms.NonMaxSuppression(p, new NmsOptions { Iou = 0.5 })[0].shape[0]);
    }

    [Fact]
    public void ClassAwareUnlessAgnostic()
    {
        using var p = Pred(new[] { 5f, 5, 10, 10, 0.9f, 0.1f }, new[] { 5.5f, 5, 10, 10, 0.1f, 0.8f });
        var aware = Rows(Nms.NonMaxSuppression(p, new NmsOptions())[0]);
        Assert.Equal(2, aware.Length);
        Assert.Equal(new[] { 0f, 1f }, aware.Select(r => r[5]));
        var agnostic = Rows(Nms.NonMaxSuppression(p, new NmsOptions { Agnostic = true })[0]);
        Assert.Single(agnostic);
        Assert.Equal(0.9f, agnostic[0][4]);
    }

    [Fact]
    public void ConfThresholdClassesFilterAndMaxDet()
    {
        var rows = Enumerable.Range(0, 10).Select(i => new[] { 20f * i + 5, 5, 10, 10, 0.05f + 0.09f * i, i % 2 == 0 ? 0.0f : 0.0f }).ToArray();
        using var p = Pred(rows);
        // Scores 0.05 … 0.86: seven exceed 0.3.
        Assert.Equal(7, Nms.NonMaxSuppression(p, new NmsOptions { Conf = 0.3 })[0].shape[0]);
        var top3 = Rows(Nms.NonMaxSuppression(p, new NmsOptions { Conf = 0.3, MaxDet = 3 })[0]);
        Assert.Equal(3, top3.Length);
        Assert.True(top3[0][4] > top3[1][4] && top3[1][4] > top3[2][4]);
        Assert.Equal(0.86f, top3[0][4], 5);
        Assert.Equal(0, Nms.NonMaxSuppression(p, new NmsOptions { Conf = 0.3, Classes = new[] { 1 } })[0].shape[0]);
    }

    [Fact]
    public void MultiLabelReportsEachPassingClass()
    {
        using var p = Pred(new[] { 5f, 5, 10, 10, 0.6f, 0.5f });
        Assert.Equal(1, Nms.NonMaxSuppression(p, new NmsOptions { Conf = 0.25 })[0].shape[0]);
        var multi = Rows(Nms.NonMaxSuppression(p, new NmsOptions { Conf = 0.25, MultiLabel = true })[0]);
        Assert.Equal(2, multi.Length);
        Assert.Equal(new[] { 0f, 1f }, multi.Select(r => r[5]));
    }

    [Fact]
    public void EmptyInputGivesEmptyOutput()
    {
        using var none = zeros(2, 6, 0);
        var d = Nms.NonMaxSuppression(none, new NmsOptions());
        Assert.Equal(2, d.Length);
        Assert.All(d, t => Assert.Equal(new long[] { 0, 6 }, t.shape));
        using var low = Pred(new[] { 5f, 5, 10, 10, 0.1f });
        Assert.Equal(0, Nms.NonMaxSuppression(low, new NmsOptions())[0].shape[0]);
    }

    [Fact]
    public void GreedyMatchesBruteForceOnRandomBoxes()
    {
        var rng = new Random(3);
        int n = 300;
        var xyxy = new float[n * 4];
        var cls = new float[n];
        for (int i = 0; i < n; i++)
        {
            float x = rng.NextSingle() * 100, y = rng.NextSingle() * 100, w = 5 + rng.NextSingle() * 30, h = 5 + rng.NextSingle() * 30;
            xyxy[4 * i] = x; xyxy[4 * i + 1] = y; xyxy[4 * i + 2] = x + w; xyxy[4 * i + 3] = y + h;
            cls[i] = rng.Next(3);
        }
        var fast = Nms.GreedyByClass(xyxy, cls, n, 0.5f, 1000);
        // Reference: textbook greedy over the whole list, comparing only same-class pairs.
        var kept = new List<long>();
        for (int i = 0; i < n; i++)
        {
            bool ok = true;
            foreach (var k in kept)
            {
                if (cls[k] != cls[i]) continue;
                float iw = Math.Min(xyxy[4 * k + 2], xyxy[4 * i + 2]) - Math.Max(xyxy[4 * k], xyxy[4 * i]);
                float ih = Math.Min(xyxy[4 * k + 3], xyxy[4 * i + 3]) - Math.Max(xyxy[4 * k + 1], xyxy[4 * i + 1]);
                if (iw <= 0 || ih <= 0) continue;
                float a = (xyxy[4 * k + 2] - xyxy[4 * k]) * (xyxy[4 * k + 3] - xyxy[4 * k + 1]);
                float b = (xyxy[4 * i + 2] - xyxy[4 * i]) * (xyxy[4 * i + 3] - xyxy[4 * i + 1]);
                if (iw * ih / (a + b - iw * ih) > 0.5f) { ok = false; break; }
            }
            if (ok) kept.Add(i);
        }
        Assert.Equal(kept, fast);
    }
}
