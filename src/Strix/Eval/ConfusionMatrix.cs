using static TorchSharp.torch;

namespace Strix.Eval;

/// <summary>
/// Detection confusion matrix, (nc+1)×(nc+1), rows = predicted class, columns = true class, with a
/// background row (ground truth nobody found: false negatives) and a background column (predictions
/// matching no ground truth: false positives). Ultralytics' conventions: predictions with
/// confidence &gt; 0.25 only; class-agnostic matching at IoU &gt; 0.45, each prediction keeping its
/// best-IoU ground truth and each ground truth its best-IoU prediction. Unlike Ultralytics, an image
/// whose predictions match nothing still counts them as background false positives (Ultralytics
/// skips them when no pair in the image matched).
/// </summary>
public sealed class ConfusionMatrix
{
    /// <summary>Ultralytics' defaults: the matrix is about confident predictions, not the 0.001 mAP sweep.</summary>
    public const double DefaultConfidence = 0.25, DefaultIou = 0.45;

    public ConfusionMatrix(int numClasses, double confidence = DefaultConfidence, double iouThreshold = DefaultIou)
        : this(numClasses, confidence, iouThreshold, background: true) { }

    ConfusionMatrix(int numClasses, double confidence, double iouThreshold, bool background)
    {
        if (numClasses < 1) throw new ArgumentOutOfRangeException(nameof(numClasses));
        NumClasses = numClasses;
        Confidence = confidence;
        IouThreshold = iouThreshold;
        HasBackground = background;
        Size = background ? numClasses + 1 : numClasses;
        Matrix = new double[Size, Size];
    }

    /// <summary>A classification matrix: nc × nc, no background row or column (every image has exactly one class and one prediction).</summary>
    public static ConfusionMatrix ForClassification(int numClasses) => new(numClasses, 0, 0, background: false);

    /// <summary>Whether the last row and column are background (detection), or the matrix is nc × nc (classification).</summary>
    public bool HasBackground { get; }
    /// <summary>Rows and columns: nc + 1 with background, else nc.</summary>
    public int Size { get; }

    /// <summary>Adds one classified image: its top-1 prediction and its true class.</summary>
    public void ProcessClassification(int predicted, int actual)
    {
        CheckClass(predicted); CheckClass(actual);
        Matrix[predicted, actual]++;
    }

    public int NumClasses { get; }
    public double Confidence { get; }
    public double IouThreshold { get; }
    /// <summary>Counts [predicted, true]; index <see cref="NumClasses"/> is background.</summary>
    public double[,] Matrix { get; }
    int Bg => NumClasses;

    /// <summary>
    /// Adds one image: predictions row-major [n,6] (xyxy, conf, cls), ground truth [m,4] xyxy and [m]
    /// classes, all in the same pixel space.
    /// </summary>
    public void Process(ReadOnlySpan<float> predictions, ReadOnlySpan<float> gtBoxes, ReadOnlySpan<int> gtClasses)
    {
        if (gtBoxes.Length != gtClasses.Length * 4) throw new ArgumentException("one box per ground-truth class", nameof(gtBoxes));
        const int W = DetectionMatcher.PredictionWidth;
        if (predictions.Length % W != 0) throw new ArgumentException($"predictions must be rows of {W} floats", nameof(predictions));
        int n = predictions.Length / W, m = gtClasses.Length;
        var iou = new float[n * m];
        for (int k = 0; k < n; k++)
            for (int j = 0; j < m; j++)
                iou[k * m + j] = BoxOps.Iou(gtBoxes.Slice(j * 4, 4), predictions.Slice(k * W, 4));
        ProcessIou(predictions, iou, gtClasses);
    }

    /// <summary>
    /// As <see cref="Process(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{int})"/> with the overlaps measured
    /// elsewhere: <paramref name="iou"/> row-major [n, m] between each prediction and each ground truth (rotated boxes' polygon IoU).
    /// </summary>
    public void ProcessIou(ReadOnlySpan<float> predictions, ReadOnlySpan<float> iou, ReadOnlySpan<int> gtClasses)
    {
        if (!HasBackground) throw new InvalidOperationException("a classification confusion matrix takes ProcessClassification, not detections");
        const int W = DetectionMatcher.PredictionWidth;
        if (predictions.Length % W != 0) throw new ArgumentException($"predictions must be rows of {W} floats", nameof(predictions));
        if (iou.Length != predictions.Length / W * gtClasses.Length) throw new ArgumentException($"iou must be [{predictions.Length / W}, {gtClasses.Length}]", nameof(iou));
        foreach (var c in gtClasses) CheckClass(c);

        // Confident predictions only.
        var keep = new List<int>();
        for (int i = 0; i < predictions.Length / W; i++)
            if (predictions[i * W + 4] > Confidence) keep.Add(i);
        int n = keep.Count, m = gtClasses.Length;
        var detCls = new int[n];
        for (int k = 0; k < n; k++) { detCls[k] = DetectionMatcher.ClassOf(predictions[keep[k] * W + 5]); CheckClass(detCls[k]); }

        // Class-agnostic pairs above the IoU threshold, best first.
        var pairs = new List<(float Iou, int Gt, int Det)>();
        for (int k = 0; k < n; k++)
            for (int j = 0; j < m; j++)
            {
                float o = iou[keep[k] * m + j];
                if (o > IouThreshold) pairs.Add((o, j, k));
            }
        pairs.Sort((a, b) => b.Iou != a.Iou ? b.Iou.CompareTo(a.Iou) : a.Det != b.Det ? a.Det.CompareTo(b.Det) : a.Gt.CompareTo(b.Gt));
        var detTaken = new bool[n];
        var gtMatch = Enumerable.Repeat(-1, m).ToArray();
        // Each detection keeps its best ground truth; of those, each ground truth keeps its best detection.
        var bestOfDet = new List<(float Iou, int Gt, int Det)>();
        foreach (var p in pairs) if (!detTaken[p.Det]) { detTaken[p.Det] = true; bestOfDet.Add(p); }
        var detMatched = new bool[n];
        foreach (var p in bestOfDet) // still in IoU-descending order
            if (gtMatch[p.Gt] < 0) { gtMatch[p.Gt] = p.Det; detMatched[p.Det] = true; }

        for (int j = 0; j < m; j++)
            Matrix[gtMatch[j] >= 0 ? detCls[gtMatch[j]] : Bg, gtClasses[j]]++;
        for (int k = 0; k < n; k++)
            if (!detMatched[k]) Matrix[detCls[k], Bg]++;
    }

    /// <summary>Tensor form: predictions [n,6] (may be empty), boxes [m,4], classes [m], on any device.</summary>
    public void Process(Tensor predictions, Tensor gtBoxes, Tensor gtClasses) =>
        Process(DetectionMatcher.ToFloats(predictions, DetectionMatcher.PredictionWidth, nameof(predictions)),
            DetectionMatcher.ToFloats(gtBoxes, 4, nameof(gtBoxes)), DetectionMatcher.ToClasses(gtClasses));

    /// <summary>True and false positives per class (the diagonal, and each row's remainder), background excluded.</summary>
    public (double[] TruePositives, double[] FalsePositives) TpFp()
    {
        var tp = new double[NumClasses];
        var fp = new double[NumClasses];
        for (int i = 0; i < NumClasses; i++)
        {
            double row = 0;
            for (int j = 0; j < Size; j++) row += Matrix[i, j];
            tp[i] = Matrix[i, i];
            fp[i] = row - tp[i];
        }
        return (tp, fp);
    }

    /// <summary>Each column divided by its sum (the share of each true class predicted as each class).</summary>
    public double[,] Normalized()
    {
        int s = Size;
        var r = new double[s, s];
        for (int j = 0; j < s; j++)
        {
            double col = 0;
            for (int i = 0; i < s; i++) col += Matrix[i, j];
            for (int i = 0; i < s; i++) r[i, j] = Matrix[i, j] / (col + 1e-9);
        }
        return r;
    }

    void CheckClass(int c)
    {
        if ((uint)c >= (uint)NumClasses) throw new ArgumentException($"class {c} outside 0..{NumClasses - 1}");
    }
}
