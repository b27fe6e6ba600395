using Strix.Runtime;
using System.Runtime.CompilerServices;
using static TorchSharp.torch;

namespace Strix.Eval;

/// <summary>
/// Decides, for one image, which predictions are true positives at each IoU threshold
/// (0.50:0.05:0.95), by Ultralytics' rule, so our mAP equals the numbers users know:
/// <list type="bullet">
/// <item>a prediction can only match a ground truth of its own class, with IoU ≥ the threshold;</item>
/// <item>each prediction takes its highest-IoU candidate ground truth;</item>
/// <item>a ground truth wanted by several predictions goes to the most confident one; the others are
/// false positives (duplicates) and do not fall back to their second choice.</item>
/// </list>
/// Ultralytics breaks the last tie by prediction index, which after NMS is confidence order; we rank
/// by confidence explicitly, so the result does not depend on the order predictions are given in.
/// Candidate pairs are found and sorted by IoU once; each threshold then uses a prefix of that list.
/// </summary>
public static class DetectionMatcher
{
    /// <summary>The COCO IoU thresholds 0.50, 0.55, …, 0.95 (float32, as Ultralytics' iouv).</summary>
    public static IReadOnlyList<float> IouThresholds { get; } = Enumerable.Range(0, 10).Select(i => (float)(0.5 + 0.05 * i)).ToArray();

    /// <summary>Values per prediction row: x1, y1, x2, y2, confidence, class.</summary>
    public const int PredictionWidth = 6;

    /// <summary>
    /// Matches one image's predictions (row-major [n,6]: xyxy, conf, cls) against its ground truth
    /// (<paramref name="gtBoxes"/> row-major [m,4] xyxy, <paramref name="gtClasses"/> [m]) in the same
    /// pixel space. Returns the true-positive flags row-major [n, thresholds].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool[] Match(ReadOnlySpan<float> predictions, ReadOnlySpan<float> gtBoxes, ReadOnlySpan<int> gtClasses,
        IReadOnlyList<float>? thresholds = null)
    {
        thresholds = CheckArguments(predictions, thresholds);
        int t = thresholds.Count;
        if (gtBoxes.Length != gtClasses.Length * 4)
            throw new ArgumentException($"{gtClasses.Length} ground-truth classes but {gtBoxes.Length / 4.0} boxes", nameof(gtBoxes));

        int n = predictions.Length / PredictionWidth, m = gtClasses.Length;
        var correct = new bool[n * t];
        if (n == 0 || m == 0 || t == 0) return correct;

        // Confidence rank: rank[i] = position of prediction i in descending-confidence order (stable).
        var rank = ConfidenceRank(predictions, n);

        // Candidate pairs: same class, IoU ≥ the lowest threshold.
        float minT = thresholds[0];
        var pairs = new List<Pair>(Math.Min(n * m, 4096));
        for (int i = 0; i < n; i++)
        {
            var p = predictions.Slice(i * PredictionWidth, PredictionWidth);
            int cls = ClassOf(p[5]);
            var box = p[..4];
            for (int j = 0; j < m; j++)
            {
                if (gtClasses[j] != cls) continue;
                float iou = BoxOps.Iou(box, gtBoxes.Slice(j * 4, 4));
                if (iou >= minT) pairs.Add(new Pair(iou, i, j, rank[i]));
            }
        }
        return Resolve(pairs, correct, n, m, rank, thresholds);
    }

    /// <summary>
    /// <see cref="Match(ReadOnlySpan{float},ReadOnlySpan{float},ReadOnlySpan{int},IReadOnlyList{float})"/> with the
    /// overlaps given: <paramref name="iou"/> row-major [n, m] between each prediction and each ground truth (mask IoU
    /// for segmentation, where the boxes' own IoU is not the measure). The same rule decides the matches.
    /// </summary>
    public static bool[] MatchIou(ReadOnlySpan<float> predictions, ReadOnlySpan<float> iou, ReadOnlySpan<int> gtClasses,
        IReadOnlyList<float>? thresholds = null)
    {
        thresholds = CheckArguments(predictions, thresholds);
        int t = thresholds.Count;
        int n = predictions.Length / PredictionWidth, m = gtClasses.Length;
        if (iou.Length != n * m) throw new ArgumentException($"iou must be [{n},{m}], has {iou.Length} values", nameof(iou));
        var correct = new bool[n * t];
        if (n == 0 || m == 0 || t == 0) return correct;
        var rank = ConfidenceRank(predictions, n);
        float minT = thresholds[0];
        var pairs = new List<Pair>(Math.Min(n * m, 4096));
        for (int i = 0; i < n; i++)
        {
            int cls = ClassOf(predictions[i * PredictionWidth + 5]);
            for (int j = 0; j < m; j++)
                if (gtClasses[j] == cls && iou[i * m + j] >= minT) pairs.Add(new Pair(iou[i * m + j], i, j, rank[i]));
        }
        return Resolve(pairs, correct, n, m, rank, thresholds);
    }

    /// <summary>The checks both matchers make: whole prediction rows, ascending thresholds (default: the COCO ten).</summary>
    static IReadOnlyList<float> CheckArguments(ReadOnlySpan<float> predictions, IReadOnlyList<float>? thresholds)
    {
        thresholds ??= IouThresholds;
        if (predictions.Length % PredictionWidth != 0)
            throw new ArgumentException($"predictions must be rows of {PredictionWidth} floats (xyxy, conf, cls); got {predictions.Length} floats", nameof(predictions));
        for (int k = 1; k < thresholds.Count; k++)
            if (!(thresholds[k] >= thresholds[k - 1])) throw new ArgumentException("IoU thresholds must be ascending", nameof(thresholds));
        return thresholds;
    }

    /// <summary>Candidate pairs → true-positive flags, one threshold at a time (highest first: the candidate prefix only grows).</summary>
    static bool[] Resolve(List<Pair> pairs, bool[] correct, int n, int m, int[] rank, IReadOnlyList<float> thresholds)
    {
        int t = thresholds.Count;
        if (pairs.Count == 0) return correct;
        pairs.Sort(); // IoU descending, then confidence rank, then ground truth

        var bestGt = new int[n];
        var winnerRank = new int[m];
        var winner = new int[m];
        int len = 0;
        for (int k = t - 1; k >= 0; k--) // highest threshold first: the candidate prefix only grows
        {
            float thr = thresholds[k];
            while (len < pairs.Count && pairs[len].Iou >= thr) len++;
            if (len == 0) continue;

            Array.Fill(bestGt, -1);
            Array.Fill(winnerRank, int.MaxValue);
            for (int q = 0; q < len; q++)
            {
                var pr = pairs[q];
                if (bestGt[pr.Pred] < 0) bestGt[pr.Pred] = pr.Gt; // first = highest IoU for this prediction
            }
            for (int i = 0; i < n; i++)
            {
                int g = bestGt[i];
                if (g >= 0 && rank[i] < winnerRank[g]) { winnerRank[g] = rank[i]; winner[g] = i; }
            }
            for (int g = 0; g < m; g++)
                if (winnerRank[g] != int.MaxValue) correct[winner[g] * t + k] = true;
        }
        return correct;
    }

    /// <summary>
    /// Tensor form of <see cref="Match(ReadOnlySpan{float},ReadOnlySpan{float},ReadOnlySpan{int},IReadOnlyList{float})"/>:
    /// predictions [n,6], ground-truth boxes [m,4] xyxy, classes [m] → bool [n,10] on the predictions' device.
    /// </summary>
    public static Tensor Match(Tensor predictions, Tensor gtBoxes, Tensor gtClasses)
    {
        var pred = ToFloats(predictions, PredictionWidth, nameof(predictions));
        var boxes = ToFloats(gtBoxes, 4, nameof(gtBoxes));
        var cls = ToClasses(gtClasses);
        var flags = Match(pred, boxes, cls);
        int n = pred.Length / PredictionWidth;
        return tensor(flags, new long[] { n, IouThresholds.Count }, device: predictions.device);
    }

    internal static int[] ConfidenceRank(ReadOnlySpan<float> predictions, int n)
    {
        var keys = new ulong[n];
        for (int i = 0; i < n; i++) keys[i] = ((ulong)DescendingKey(predictions[i * PredictionWidth + 4]) << 32) | (uint)i;
        Array.Sort(keys);
        var rank = new int[n];
        for (int r = 0; r < n; r++) rank[(int)(keys[r] & 0xFFFFFFFF)] = r;
        return rank;
    }

    /// <summary>A key whose unsigned order is the float's descending order (NaN last).</summary>
    internal static uint DescendingKey(float value)
    {
        if (float.IsNaN(value)) return uint.MaxValue;
        if (value == 0f) value = 0f; // −0 and +0 are equal confidences
        uint bits = BitConverter.SingleToUInt32Bits(value);
        uint ascending = (bits & 0x80000000u) != 0 ? ~bits : bits | 0x80000000u;
        return ~ascending;
    }

    internal static int ClassOf(float value)
    {
        if (!(value >= 0) || value != MathF.Floor(value))
            throw new ArgumentException($"prediction class must be a non-negative integer, got {value}");
        return (int)value;
    }

    internal static float[] ToFloats(Tensor t, int width, string name)
    {
        if (t.numel() == 0) return Array.Empty<float>();
        if (t.dim() != 2 || t.shape[1] != width)
            throw new ArgumentException($"{name} must be [N,{width}], got [{string.Join(",", t.shape)}]", name);
        return TensorArrays.Floats(t);
    }

    internal static int[] ToClasses(Tensor t)
    {
        if (t.numel() == 0) return Array.Empty<int>();
        return TensorArrays.Ints(t);
    }

    readonly record struct Pair(float Iou, int Pred, int Gt, int Rank) : IComparable<Pair>
    {
        public int CompareTo(Pair o)
        {
            int c = o.Iou.CompareTo(Iou);
            if (c != 0) return c;
            c = Rank.CompareTo(o.Rank);
            return c != 0 ? c : Gt.CompareTo(o.Gt);
        }
    }
}
