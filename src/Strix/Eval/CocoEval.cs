using System.Globalization;
using System.Text;

namespace Strix.Eval;

/// <summary>The twelve COCO bbox numbers (pycocotools' <c>COCOeval.stats</c>); −1 where nothing could be measured.</summary>
public sealed class CocoEvalResult
{
    internal CocoEvalResult(double[] stats) => Stats = stats;

    /// <summary>AP@[.5:.95], AP50, AP75, AP small/medium/large, AR@1, AR@10, AR@100, AR small/medium/large.</summary>
    public IReadOnlyList<double> Stats { get; }
    public double Map => Stats[0];
    public double Map50 => Stats[1];
    public double Map75 => Stats[2];

    /// <summary>pycocotools' summary lines.</summary>
    public string Summary()
    {
        string[] rows =
        {
            " Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ]",
            " Average Precision  (AP) @[ IoU=0.50      | area=   all | maxDets=100 ]",
            " Average Precision  (AP) @[ IoU=0.75      | area=   all | maxDets=100 ]",
            " Average Precision  (AP) @[ IoU=0.50:0.95 | area= small | maxDets=100 ]",
            " Average Precision  (AP) @[ IoU=0.50:0.95 | area=medium | maxDets=100 ]",
            " Average Precision  (AP) @[ IoU=0.50:0.95 | area= large | maxDets=100 ]",
            " Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=  1 ]",
            " Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets= 10 ]",
            " Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ]",
            " Average Recall     (AR) @[ IoU=0.50:0.95 | area= small | maxDets=100 ]",
            " Average Recall     (AR) @[ IoU=0.50:0.95 | area=medium | maxDets=100 ]",
            " Average Recall     (AR) @[ IoU=0.50:0.95 | area= large | maxDets=100 ]",
        };
        var sb = new StringBuilder();
        for (int i = 0; i < rows.Length; i++) sb.Append(rows[i]).Append(" = ").Append(Stats[i].ToString("0.000", CultureInfo.InvariantCulture)).Append('\n');
        return sb.ToString();
    }
}

/// <summary>
/// COCO's official bbox evaluation (pycocotools <c>COCOeval</c>, iouType "bbox"), reimplemented so
/// predictions can be scored by the definition COCO leaderboards use without Python: per image and
/// category the top-100 detections by score are matched greedily (most confident first, each to the
/// best still-free ground truth with IoU ≥ t; crowd regions absorb detections without counting),
/// precision is read off the envelope at 101 recall thresholds and averaged (a perfect detector
/// scores 1.0, where Ultralytics' trapezoid gives 0.995), classes without ground truth are skipped;
/// area ranges small &lt; 32², medium &lt; 96², large.
/// </summary>
public static class CocoEval
{
    static readonly double[] IouThresholds = AveragePrecision.Linspace(0.5, 0.95, 10);
    static readonly double[] RecallThresholds = AveragePrecision.Linspace(0, 1, 101);
    static readonly int[] MaxDets = { 1, 10, 100 };
    static readonly (double Lo, double Hi)[] AreaRanges = { (0, 1e10), (0, 32 * 32), (32 * 32, 96 * 96), (96 * 96, 1e10) };
    const double Spacing1 = 2.220446049250313e-16; // numpy.spacing(1)

    /// <summary>Reads a results file and evaluates it against <paramref name="groundTruth"/>.</summary>
    public static CocoEvalResult Evaluate(CocoGroundTruth groundTruth, string predictionsJson, IEnumerable<string>? imageIds = null) =>
        Evaluate(groundTruth, CocoPredictionsReader.Read(predictionsJson), imageIds);

    /// <summary>
    /// Evaluates <paramref name="detections"/>; <paramref name="imageIds"/> restricts the images
    /// (default: all in the ground truth), as Ultralytics restricts to the validated images.
    /// </summary>
    public static CocoEvalResult Evaluate(CocoGroundTruth groundTruth, IReadOnlyList<CocoDetection> detections, IEnumerable<string>? imageIds = null)
    {
        var known = new HashSet<string>(groundTruth.ImageIds, StringComparer.Ordinal);
        var stray = detections.Select(d => d.ImageId).Where(id => !known.Contains(id)).Distinct().Take(5).ToList();
        if (stray.Count > 0)
            throw new InvalidDataException($"results do not correspond to the ground truth: image ids {string.Join(", ", stray)} are not in it");

        var imgs = SortIds((imageIds ?? groundTruth.ImageIds).Distinct());
        var cats = groundTruth.CategoryIds.Distinct().OrderBy(c => c).ToArray();
        var imgIndex = imgs.Select((id, i) => (id, i)).ToDictionary(p => p.id, p => p.i, StringComparer.Ordinal);
        var catIndex = cats.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i);
        int I = imgs.Length, K = cats.Length, T = IouThresholds.Length, R = RecallThresholds.Length, A = AreaRanges.Length, M = MaxDets.Length;

        var gts = new List<CocoAnnotation>?[K, I];
        foreach (var g in groundTruth.Annotations)
            if (imgIndex.TryGetValue(g.ImageId, out var i) && catIndex.TryGetValue(g.CategoryId, out var k))
                (gts[k, i] ??= new()).Add(g);
        var dts = new List<Det>?[K, I];
        for (int n = 0; n < detections.Count; n++)
        {
            var d = detections[n];
            if (imgIndex.TryGetValue(d.ImageId, out var i) && catIndex.TryGetValue(d.CategoryId, out var k))
                (dts[k, i] ??= new()).Add(new Det(n + 1, d.X, d.Y, d.Width, d.Height, d.Width * d.Height, d.Score));
        }

        var precision = new double[T, R, K, A, M];
        var recall = new double[T, K, A, M];
        Fill(precision, -1); Fill(recall, -1);
        int maxDet = MaxDets[^1];
        var evals = new ImageEval?[I];
        for (int k = 0; k < K; k++)
        {
            // Detections per image: by score, stable, top maxDet; IoUs against the image's ground truth.
            var sortedDts = new Det[I][];
            var ious = new double[I][,];
            for (int i = 0; i < I; i++)
            {
                var d = dts[k, i];
                sortedDts[i] = d is null ? Array.Empty<Det>() : d.OrderByDescending(x => x.Score).Take(maxDet).ToArray();
                var g = gts[k, i];
                ious[i] = g is null || sortedDts[i].Length == 0 ? new double[0, 0] : Iou(sortedDts[i], g);
            }
            for (int a = 0; a < A; a++)
            {
                for (int i = 0; i < I; i++) evals[i] = EvaluateImage(gts[k, i], sortedDts[i], ious[i], AreaRanges[a]);
                for (int m = 0; m < M; m++) Accumulate(evals, MaxDets[m], k, a, m, precision, recall);
            }
        }

        double Summarize(bool ap, double? iouThr, int area, int maxDetsIndex)
        {
            double sum = 0; int count = 0;
            for (int t = 0; t < T; t++)
            {
                if (iouThr is { } thr && IouThresholds[t] != thr) continue;
                for (int k = 0; k < K; k++)
                {
                    if (ap)
                        for (int r = 0; r < R; r++) { double v = precision[t, r, k, area, maxDetsIndex]; if (v > -1) { sum += v; count++; } }
                    else { double v = recall[t, k, area, maxDetsIndex]; if (v > -1) { sum += v; count++; } }
                }
            }
            return count == 0 ? -1 : sum / count;
        }
        return new CocoEvalResult(new[]
        {
            Summarize(true, null, 0, 2), Summarize(true, 0.5, 0, 2), Summarize(true, 0.75, 0, 2),
            Summarize(true, null, 1, 2), Summarize(true, null, 2, 2), Summarize(true, null, 3, 2),
            Summarize(false, null, 0, 0), Summarize(false, null, 0, 1), Summarize(false, null, 0, 2),
            Summarize(false, null, 1, 2), Summarize(false, null, 2, 2), Summarize(false, null, 3, 2),
        });
    }

    readonly record struct Det(long Id, double X, double Y, double W, double H, double Area, double Score);

    sealed class ImageEval
    {
        public required double[] Scores;     // [D], descending
        public required bool[,] Matched;     // [T, D]
        public required bool[,] Ignored;     // [T, D]
        public required int NotIgnoredGt;
    }

    /// <summary>IoU [D, G] as pycocotools' bbox IoU: plain IoU, or intersection over detection area for crowd regions.</summary>
    static double[,] Iou(Det[] d, List<CocoAnnotation> g)
    {
        var r = new double[d.Length, g.Count];
        for (int j = 0; j < g.Count; j++)
        {
            var G = g[j];
            double ga = G.Width * G.Height;
            for (int i = 0; i < d.Length; i++)
            {
                var D = d[i];
                double w = Math.Min(D.W + D.X, G.Width + G.X) - Math.Max(D.X, G.X);
                if (w <= 0) continue;
                double h = Math.Min(D.H + D.Y, G.Height + G.Y) - Math.Max(D.Y, G.Y);
                if (h <= 0) continue;
                double inter = w * h, da = D.W * D.H;
                r[i, j] = inter / (G.IsCrowd ? da : da + ga - inter);
            }
        }
        return r;
    }

    static ImageEval? EvaluateImage(List<CocoAnnotation>? gtList, Det[] dt, double[,] iouDG, (double Lo, double Hi) area)
    {
        int G = gtList?.Count ?? 0, D = dt.Length, T = IouThresholds.Length;
        if (G == 0 && D == 0) return null;
        // Ground truth outside the area range (or crowd) is ignored; ignored ones go last (stable).
        var order = Enumerable.Range(0, G).OrderBy(j => Ignore(gtList![j], area) ? 1 : 0).ToArray();
        var gtIg = order.Select(j => Ignore(gtList![j], area)).ToArray();
        var crowd = order.Select(j => gtList![j].IsCrowd).ToArray();
        var gtm = new bool[T, G];
        var dtm = new bool[T, D];
        var dtIg = new bool[T, D];
        if (G > 0 && D > 0)
            for (int t = 0; t < T; t++)
                for (int di = 0; di < D; di++)
                {
                    double best = Math.Min(IouThresholds[t], 1 - 1e-10);
                    int m = -1;
                    for (int gi = 0; gi < G; gi++)
                    {
                        if (gtm[t, gi] && !crowd[gi]) continue;            // taken
                        if (m > -1 && !gtIg[m] && gtIg[gi]) break;          // a real match beats any ignored one
                        double iou = iouDG[di, order[gi]];
                        if (iou < best) continue;
                        best = iou; m = gi;
                    }
                    if (m == -1) continue;
                    dtIg[t, di] = gtIg[m];
                    dtm[t, di] = true;
                    gtm[t, m] = true;
                }
        for (int di = 0; di < D; di++)
        {
            bool outside = dt[di].Area < area.Lo || dt[di].Area > area.Hi;
            if (outside) for (int t = 0; t < T; t++) if (!dtm[t, di]) dtIg[t, di] = true;
        }
        return new ImageEval { Scores = dt.Select(x => x.Score).ToArray(), Matched = dtm, Ignored = dtIg, NotIgnoredGt = gtIg.Count(x => !x) };
    }

    static bool Ignore(CocoAnnotation g, (double Lo, double Hi) area) => g.IsCrowd || g.Area < area.Lo || g.Area > area.Hi;

    static void Accumulate(ImageEval?[] evals, int maxDet, int k, int a, int m, double[,,,,] precision, double[,,,] recall)
    {
        int T = IouThresholds.Length, R = RecallThresholds.Length;
        var scores = new List<double>();
        var refs = new List<(ImageEval E, int D)>();
        int npig = 0;
        bool any = false;
        foreach (var e in evals)
        {
            if (e is null) continue;
            any = true;
            npig += e.NotIgnoredGt;
            int n = Math.Min(maxDet, e.Scores.Length);
            for (int d = 0; d < n; d++) { scores.Add(e.Scores[d]); refs.Add((e, d)); }
        }
        if (!any || npig == 0) return;
        // Stable sort by descending score across images (numpy mergesort).
        var inds = Enumerable.Range(0, scores.Count).OrderByDescending(i => scores[i]).ToArray();
        int nd = inds.Length;
        var rc = new double[nd];
        var pr = new double[nd];
        for (int t = 0; t < T; t++)
        {
            double tp = 0, fp = 0;
            for (int q = 0; q < nd; q++)
            {
                var (e, d) = refs[inds[q]];
                if (!e.Ignored[t, d]) { if (e.Matched[t, d]) tp++; else fp++; }
                rc[q] = tp / npig;
                pr[q] = tp / (fp + tp + Spacing1);
            }
            recall[t, k, a, m] = nd > 0 ? rc[nd - 1] : 0;
            for (int q = nd - 1; q > 0; q--) if (pr[q] > pr[q - 1]) pr[q - 1] = pr[q];
            int p = 0;
            for (int r = 0; r < R; r++)
            {
                // searchsorted(rc, threshold, 'left'): first index with rc >= threshold; past the end, the rest stay 0.
                while (p < nd && rc[p] < RecallThresholds[r]) p++;
                if (p >= nd) { for (int rr = r; rr < R; rr++) precision[t, rr, k, a, m] = 0; break; }
                precision[t, r, k, a, m] = pr[p];
            }
        }
    }

    static string[] SortIds(IEnumerable<string> ids)
    {
        var list = ids.ToList();
        bool numeric = list.All(s => long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out _));
        return numeric ? list.OrderBy(s => long.Parse(s, CultureInfo.InvariantCulture)).ToArray() : list.OrderBy(s => s, StringComparer.Ordinal).ToArray();
    }

    static void Fill(Array a, double v)
    {
        var span = System.Runtime.InteropServices.MemoryMarshal.CreateSpan(
            ref System.Runtime.CompilerServices.Unsafe.As<byte, double>(ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(a)), a.Length);
        span.Fill(v);
    }
}
