using System.Runtime.CompilerServices;
namespace Strix.Eval;

/// <summary>
/// Per-class average precision from accumulated detections, with the COCO / Ultralytics definitions:
/// precision envelope (running maximum from the right) over the recall curve padded with (0, 1) and
/// (1, 0), sampled at 101 recall points and integrated by the trapezoid rule; precision, recall and
/// F1 curves over 1000 confidence points; the operating point at the maximum of the smoothed mean F1.
/// Linear interpolation follows numpy's <c>interp</c> exactly (duplicates in x take the last one),
/// so results agree with Ultralytics to floating-point noise.
/// </summary>
public static class AveragePrecision
{
    /// <summary>Points on the confidence / recall axis of the P, R, F1 and PR curves.</summary>
    public const int CurvePoints = 1000;
    const double Eps = 1e-16;

    /// <summary>Everything <see cref="PerClass"/> computes, one row per class that has ground truth.</summary>
    public sealed class Result
    {
        /// <summary>Class ids that appear in the ground truth, ascending (the rows of every per-class array).</summary>
        public required int[] Classes { get; init; }
        /// <summary>Ground-truth instances per row.</summary>
        public required int[] Targets { get; init; }
        /// <summary>AP per row and IoU threshold: [classes][thresholds].</summary>
        public required double[][] Ap { get; init; }
        /// <summary>Precision, recall, F1 per row at the max-mean-F1 confidence.</summary>
        public required double[] Precision { get; init; }
        public required double[] Recall { get; init; }
        public required double[] F1 { get; init; }
        /// <summary>True / false positive counts per row at that confidence (from P and R, as Ultralytics).</summary>
        public required double[] TruePositives { get; init; }
        public required double[] FalsePositives { get; init; }
        /// <summary>Index into <see cref="X"/> of the chosen confidence.</summary>
        public required int BestIndex { get; init; }
        /// <summary>The curve abscissa: <see cref="CurvePoints"/> values from 0 to 1 (confidence, or recall for PR).</summary>
        public required double[] X { get; init; }
        /// <summary>Precision / recall / F1 versus confidence per row: [classes][CurvePoints].</summary>
        public required double[][] PrecisionCurve { get; init; }
        public required double[][] RecallCurve { get; init; }
        public required double[][] F1Curve { get; init; }
        /// <summary>Interpolated precision envelope at IoU 0.5 versus recall, for classes with predictions only.</summary>
        public required double[][] PrCurve { get; init; }
        /// <summary>Row index (into <see cref="Classes"/>) of each <see cref="PrCurve"/> entry.</summary>
        public required int[] PrCurveRows { get; init; }
    }

    /// <summary>
    /// Computes per-class AP and curves. <paramref name="tp"/> is row-major [N, thresholds] (one row per
    /// prediction), <paramref name="confidence"/> and <paramref name="predictedClass"/> are [N],
    /// <paramref name="targetClass"/> lists the class of every ground-truth instance. Predictions of
    /// classes absent from the ground truth do not count (as in Ultralytics and COCO).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static Result PerClass(ReadOnlySpan<bool> tp, int thresholds, ReadOnlySpan<float> confidence,
        ReadOnlySpan<int> predictedClass, ReadOnlySpan<int> targetClass)
    {
        int n = confidence.Length;
        if (thresholds < 1) throw new ArgumentOutOfRangeException(nameof(thresholds));
        if (tp.Length != n * thresholds) throw new ArgumentException($"tp has {tp.Length} flags, expected {n}×{thresholds}", nameof(tp));
        if (predictedClass.Length != n) throw new ArgumentException($"{predictedClass.Length} predicted classes for {n} confidences", nameof(predictedClass));

        // Ground-truth classes and counts.
        int maxCls = -1;
        foreach (var c in targetClass) { if (c < 0) throw new ArgumentException($"negative target class {c}"); maxCls = Math.Max(maxCls, c); }
        var counts = new int[maxCls + 1];
        foreach (var c in targetClass) counts[c]++;
        var classes = Enumerable.Range(0, counts.Length).Where(c => counts[c] > 0).ToArray();
        int k = classes.Length;
        var rowOf = new int[counts.Length];
        Array.Fill(rowOf, -1);
        for (int r = 0; r < k; r++) rowOf[classes[r]] = r;

        // Predictions of those classes, grouped by class, each group in descending confidence (stable).
        var order = SortByConfidence(confidence);
        var groupStart = new int[k + 1];
        for (int i = 0; i < n; i++)
        {
            int c = predictedClass[i];
            if (c >= 0 && c < rowOf.Length && rowOf[c] >= 0) groupStart[rowOf[c] + 1]++;
        }
        for (int r = 0; r < k; r++) groupStart[r + 1] += groupStart[r];
        var grouped = new int[groupStart[k]];
        var fill = groupStart[..k].ToArray();
        foreach (var i in order)
        {
            int c = predictedClass[i];
            if (c >= 0 && c < rowOf.Length && rowOf[c] >= 0) grouped[fill[rowOf[c]]++] = i;
        }

        var x = Linspace(0, 1, CurvePoints);
        var ap = new double[k][];
        var pCurve = new double[k][];
        var rCurve = new double[k][];
        var prCurve = new List<double[]>();
        var prRows = new List<int>();
        int maxGroup = 0;
        for (int r = 0; r < k; r++) maxGroup = Math.Max(maxGroup, groupStart[r + 1] - groupStart[r]);
        var recall = new double[maxGroup];
        var precision = new double[maxGroup];
        var negConf = new double[maxGroup];
        var flags = new bool[maxGroup * thresholds];
        var mrec = new double[maxGroup + 2];
        var mpre = new double[maxGroup + 2];

        for (int r = 0; r < k; r++)
        {
            ap[r] = new double[thresholds];
            pCurve[r] = new double[CurvePoints];
            rCurve[r] = new double[CurvePoints];
            int start = groupStart[r], np = groupStart[r + 1] - start, nl = counts[classes[r]];
            if (np == 0 || nl == 0) continue;
            // Gather this class's flags threshold-major, so each threshold's pass reads memory in order.
            for (int q = 0; q < np; q++)
            {
                int idx = grouped[start + q];
                negConf[q] = -(double)confidence[idx];
                var row = tp.Slice(idx * thresholds, thresholds);
                for (int j = 0; j < thresholds; j++) flags[j * maxGroup + q] = row[j];
            }

            for (int j = 0; j < thresholds; j++)
            {
                double tpc = 0, fpc = 0;
                var f = flags.AsSpan(j * maxGroup, np);
                for (int q = 0; q < np; q++)
                {
                    if (f[q]) tpc++; else fpc++;
                    recall[q] = tpc / (nl + Eps);
                    precision[q] = tpc / (tpc + fpc);
                }
                var rec = recall.AsSpan(0, np);
                var pre = precision.AsSpan(0, np);
                ap[r][j] = ComputeAp(rec, pre, mrec.AsSpan(0, np + 2), mpre.AsSpan(0, np + 2));
                if (j == 0)
                {
                    var nc = negConf.AsSpan(0, np);
                    for (int i = 0; i < CurvePoints; i++)
                    {
                        rCurve[r][i] = Interp(-x[i], nc, rec, left: 0, right: rec[np - 1]);
                        pCurve[r][i] = Interp(-x[i], nc, pre, left: 1, right: pre[np - 1]);
                    }
                    var pr = new double[CurvePoints];
                    var mr = mrec.AsSpan(0, np + 2);
                    var mp = mpre.AsSpan(0, np + 2);
                    for (int i = 0; i < CurvePoints; i++) pr[i] = Interp(x[i], mr, mp, mp[0], mp[^1]);
                    prCurve.Add(pr);
                    prRows.Add(r);
                }
            }
        }

        var f1Curve = new double[k][];
        for (int r = 0; r < k; r++)
        {
            f1Curve[r] = new double[CurvePoints];
            for (int i = 0; i < CurvePoints; i++)
            {
                double p = pCurve[r][i], rc = rCurve[r][i];
                f1Curve[r][i] = 2 * p * rc / (p + rc + Eps);
            }
        }
        int best = k == 0 ? 0 : ArgMax(Smooth(MeanOverRows(f1Curve, CurvePoints), 0.1));
        var P = new double[k]; var R = new double[k]; var F = new double[k]; var TP = new double[k]; var FP = new double[k];
        for (int r = 0; r < k; r++)
        {
            P[r] = pCurve[r][best]; R[r] = rCurve[r][best]; F[r] = f1Curve[r][best];
            TP[r] = Math.Round(R[r] * counts[classes[r]], MidpointRounding.ToEven);
            FP[r] = Math.Round(TP[r] / (P[r] + Eps) - TP[r], MidpointRounding.ToEven);
        }
        return new Result
        {
            Classes = classes, Targets = classes.Select(c => counts[c]).ToArray(), Ap = ap,
            Precision = P, Recall = R, F1 = F, TruePositives = TP, FalsePositives = FP, BestIndex = best,
            X = x, PrecisionCurve = pCurve, RecallCurve = rCurve, F1Curve = f1Curve,
            PrCurve = prCurve.ToArray(), PrCurveRows = prRows.ToArray(),
        };
    }

    /// <summary>
    /// AP of one precision/recall curve (predictions in descending confidence): pad with recall 0 / 1
    /// and precision 1 / 0, take the envelope, integrate the 101-point interpolation by trapezoids.
    /// </summary>
    public static double ComputeAp(ReadOnlySpan<double> recall, ReadOnlySpan<double> precision)
    {
        var mrec = new double[recall.Length + 2];
        var mpre = new double[recall.Length + 2];
        return ComputeAp(recall, precision, mrec, mpre);
    }

    /// <summary>As <see cref="ComputeAp(ReadOnlySpan{double},ReadOnlySpan{double})"/>, leaving the padded recall and the envelope in the given buffers (length + 2).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double ComputeAp(ReadOnlySpan<double> recall, ReadOnlySpan<double> precision, Span<double> mrec, Span<double> mpre)
    {
        int n = recall.Length;
        if (precision.Length != n) throw new ArgumentException("recall and precision differ in length");
        if (mrec.Length != n + 2 || mpre.Length != n + 2) throw new ArgumentException("buffers must be two longer than the curve");
        mrec[0] = 0; mpre[0] = 1;
        recall.CopyTo(mrec[1..]);
        precision.CopyTo(mpre[1..]);
        mrec[n + 1] = 1; mpre[n + 1] = 0;
        for (int i = n; i >= 0; i--) if (mpre[i + 1] > mpre[i] || double.IsNaN(mpre[i + 1])) mpre[i] = mpre[i + 1];

        // 101-point interpolation: the recall axis only grows, so walk it once.
        double area = 0, prevX = 0, prevY = 0;
        int j = 0;
        for (int i = 0; i <= 100; i++)
        {
            double xi = i == 100 ? 1.0 : i * 0.01;
            while (j + 1 < n + 2 && mrec[j + 1] <= xi) j++;
            double yi = InterpAt(xi, j, mrec, mpre);
            if (i > 0) area += (xi - prevX) * (yi + prevY) / 2.0;
            prevX = xi; prevY = yi;
        }
        return area;
    }

    /// <summary>numpy.interp at one point: <paramref name="xp"/> ascending (duplicates allowed).</summary>
    public static double Interp(double x, ReadOnlySpan<double> xp, ReadOnlySpan<double> fp, double left, double right)
    {
        int len = xp.Length;
        if (len == 0) throw new ArgumentException("empty interpolation table");
        if (double.IsNaN(x)) return x;
        if (x > xp[len - 1]) return right;
        if (x < xp[0]) return left;
        // Last index with xp[j] <= x.
        int lo = 0, hi = len;
        while (lo < hi)
        {
            int mid = lo + ((hi - lo) >> 1);
            if (x >= xp[mid]) lo = mid + 1; else hi = mid;
        }
        return InterpAt(x, lo - 1, xp, fp);
    }

    static double InterpAt(double x, int j, ReadOnlySpan<double> xp, ReadOnlySpan<double> fp)
    {
        if (j == xp.Length - 1 || xp[j] == x) return fp[j];
        double slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j]);
        double y = slope * (x - xp[j]) + fp[j];
        if (double.IsNaN(y))
        {
            y = slope * (x - xp[j + 1]) + fp[j + 1];
            if (double.IsNaN(y) && fp[j] == fp[j + 1]) y = fp[j];
        }
        return y;
    }

    /// <summary>numpy.linspace(start, stop, count): start + i·step, the last point exactly stop.</summary>
    public static double[] Linspace(double start, double stop, int count)
    {
        var r = new double[count];
        if (count == 1) { r[0] = start; return r; }
        double step = (stop - start) / (count - 1);
        for (int i = 0; i < count; i++) r[i] = i * step + start;
        r[^1] = stop;
        return r;
    }

    /// <summary>Box filter over a fraction <paramref name="fraction"/> of the curve, edges padded with the end values (Ultralytics' smooth).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double[] Smooth(ReadOnlySpan<double> y, double fraction = 0.05)
    {
        int len = y.Length;
        if (len == 0) return Array.Empty<double>();
        int nf = (int)Math.Round(len * fraction * 2, MidpointRounding.ToEven) / 2 + 1; // odd
        int half = nf / 2;
        var padded = new double[len + 2 * half];
        for (int i = 0; i < half; i++) { padded[i] = y[0]; padded[half + len + i] = y[len - 1]; }
        y.CopyTo(padded.AsSpan(half));
        double w = 1.0 / nf;
        var r = new double[len];
        for (int i = 0; i < len; i++)
        {
            double s = 0;
            for (int q = 0; q < nf; q++) s += padded[i + q] * w;
            r[i] = s;
        }
        return r;
    }

    /// <summary>Index of the first maximum.</summary>
    public static int ArgMax(ReadOnlySpan<double> y)
    {
        int best = 0;
        for (int i = 1; i < y.Length; i++) if (y[i] > y[best]) best = i;
        return best;
    }

    internal static double[] MeanOverRows(double[][] rows, int width)
    {
        var m = new double[width];
        if (rows.Length == 0) return m;
        foreach (var row in rows) for (int i = 0; i < width; i++) m[i] += row[i];
        for (int i = 0; i < width; i++) m[i] /= rows.Length;
        return m;
    }

    /// <summary>Indices of <paramref name="confidence"/> in descending order; equal values keep their input order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static int[] SortByConfidence(ReadOnlySpan<float> confidence)
    {
        int n = confidence.Length;
        var keys = new ulong[n];
        for (int i = 0; i < n; i++) keys[i] = ((ulong)DetectionMatcher.DescendingKey(confidence[i]) << 32) | (uint)i;
        Array.Sort(keys);
        var order = new int[n];
        for (int i = 0; i < n; i++) order[i] = (int)(keys[i] & 0xFFFFFFFF);
        return order;
    }
}
