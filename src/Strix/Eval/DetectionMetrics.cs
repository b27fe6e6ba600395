using System.Runtime.CompilerServices;
using static TorchSharp.torch;

namespace Strix.Eval;

/// <summary>
/// Accumulates per-image detection statistics over a validation pass (true-positive flags at the ten
/// IoU thresholds, confidence, predicted class, ground-truth classes) and turns them into mAP50,
/// mAP75, mAP50-95, per-class AP, P and R at the max-F1 confidence, and fitness. Feed it one image at
/// a time with predictions and ground truth in the same pixel space (Ultralytics compares in original
/// image pixels); call <see cref="Compute"/> at the end.
/// </summary>
public sealed class DetectionMetrics
{
    readonly Buffer<bool> _tp = new();
    readonly Buffer<float> _conf = new();
    readonly Buffer<int> _predCls = new();
    readonly Buffer<int> _targetCls = new();
    readonly int[] _imagesPerClass;
    readonly int[] _instancesPerClass;
    readonly List<(int Predictions, int Targets)> _perImage = new(); // record boundaries, for merging shards

    /// <param name="names">Class names by id; their count is the number of classes.</param>
    /// <param name="kind">The results' <see cref="DetectionResults.Kind"/>: B (boxes) or M (masks).</param>
    public DetectionMetrics(IReadOnlyList<string> names, string kind = "B")
    {
        Kind = kind;
        if (names.Count == 0) throw new ArgumentException("need at least one class name", nameof(names));
        Names = names.ToArray();
        _imagesPerClass = new int[names.Count];
        _instancesPerClass = new int[names.Count];
    }

    public IReadOnlyList<string> Names { get; }
    /// <summary>B (boxes) or M (masks), as in Ultralytics' result keys.</summary>
    public string Kind { get; }
    public int NumClasses => Names.Count;
    /// <summary>Images seen (with or without ground truth or predictions).</summary>
    public int Images { get; private set; }
    /// <summary>Predictions accumulated.</summary>
    public int Predictions => _conf.Count;
    /// <summary>Ground-truth instances accumulated.</summary>
    public int Instances => _targetCls.Count;
    static int T => DetectionMatcher.IouThresholds.Count;

    /// <summary>
    /// Adds one image: predictions row-major [n,6] (x1, y1, x2, y2, conf, cls), ground truth
    /// <paramref name="gtBoxes"/> row-major [m,4] xyxy and <paramref name="gtClasses"/> [m].
    /// </summary>
    public void Update(ReadOnlySpan<float> predictions, ReadOnlySpan<float> gtBoxes, ReadOnlySpan<int> gtClasses)
    {
        AddMatched(DetectionMatcher.Match(predictions, gtBoxes, gtClasses), predictions, gtClasses);
    }

    /// <summary>
    /// Adds one image whose prediction–ground-truth overlaps were measured elsewhere: predictions row-major [n,6],
    /// <paramref name="iou"/> row-major [n, m] (mask IoU for segmentation) and <paramref name="gtClasses"/> [m].
    /// </summary>
    public void UpdateIou(ReadOnlySpan<float> predictions, ReadOnlySpan<float> iou, ReadOnlySpan<int> gtClasses)
    {
        AddMatched(DetectionMatcher.MatchIou(predictions, iou, gtClasses), predictions, gtClasses);
    }

    void AddMatched(bool[] tp, ReadOnlySpan<float> predictions, ReadOnlySpan<int> gtClasses)
    {
        int n = predictions.Length / DetectionMatcher.PredictionWidth;
        var conf = new float[n];
        var cls = new int[n];
        for (int i = 0; i < n; i++)
        {
            conf[i] = predictions[i * DetectionMatcher.PredictionWidth + 4];
            cls[i] = DetectionMatcher.ClassOf(predictions[i * DetectionMatcher.PredictionWidth + 5]);
        }
        Add(tp, conf, cls, gtClasses);
    }

    /// <summary>Tensor form of <see cref="Update(ReadOnlySpan{float},ReadOnlySpan{float},ReadOnlySpan{int})"/>: [n,6], [m,4], [m] on any device.</summary>
    public void Update(Tensor predictions, Tensor gtBoxes, Tensor gtClasses) =>
        Update(DetectionMatcher.ToFloats(predictions, DetectionMatcher.PredictionWidth, nameof(predictions)),
            DetectionMatcher.ToFloats(gtBoxes, 4, nameof(gtBoxes)), DetectionMatcher.ToClasses(gtClasses));

    /// <summary>
    /// Adds one image's precomputed statistics: <paramref name="tp"/> row-major [n,10],
    /// confidences and classes [n], and the classes of its ground-truth instances.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Add(ReadOnlySpan<bool> tp, ReadOnlySpan<float> confidence, ReadOnlySpan<int> predictedClass, ReadOnlySpan<int> targetClass)
    {
        int n = confidence.Length;
        if (tp.Length != n * T) throw new ArgumentException($"tp must be [{n},{T}], has {tp.Length} flags", nameof(tp));
        if (predictedClass.Length != n) throw new ArgumentException("one predicted class per confidence", nameof(predictedClass));
        foreach (var c in predictedClass)
            if ((uint)c >= (uint)NumClasses) throw new ArgumentException($"predicted class {c} outside 0..{NumClasses - 1}", nameof(predictedClass));
        Span<bool> seen = NumClasses <= 1024 ? stackalloc bool[NumClasses] : new bool[NumClasses];
        foreach (var c in targetClass)
        {
            if ((uint)c >= (uint)NumClasses) throw new ArgumentException($"ground-truth class {c} outside 0..{NumClasses - 1}", nameof(targetClass));
            _instancesPerClass[c]++;
            if (!seen[c]) { seen[c] = true; _imagesPerClass[c]++; }
        }
        _tp.Append(tp);
        _conf.Append(confidence);
        _predCls.Append(predictedClass);
        _targetCls.Append(targetClass);
        _perImage.Add((n, targetClass.Length));
        Images++;
    }

    /// <summary>
    /// Writes every image's statistics, in the order they were added, so another process can replay
    /// them with <see cref="ReadImages"/> and <see cref="Add(ImageStats)"/> (data-parallel validation: each rank
    /// evaluates a shard, rank 0 merges them in the single-process image order).
    /// </summary>
    public void WriteImages(BinaryWriter w)
    {
        w.Write(_perImage.Count);
        int p = 0, t = 0;
        var tp = _tp.Span; var conf = _conf.Span; var pc = _predCls.Span; var tc = _targetCls.Span;
        foreach (var (n, m) in _perImage)
        {
            w.Write(n); w.Write(m);
            for (int i = 0; i < n * T; i++) w.Write(tp[p * T + i]);
            for (int i = 0; i < n; i++) { w.Write(conf[p + i]); w.Write(pc[p + i]); }
            for (int i = 0; i < m; i++) w.Write(tc[t + i]);
            p += n; t += m;
        }
    }

    /// <summary>One image's statistics as written by <see cref="WriteImages"/>.</summary>
    public sealed record ImageStats(bool[] Tp, float[] Confidence, int[] PredictedClass, int[] TargetClass);

    /// <summary>Reads what <see cref="WriteImages"/> wrote.</summary>
    public static List<ImageStats> ReadImages(BinaryReader r)
    {
        int count = r.ReadInt32();
        var list = new List<ImageStats>(count);
        for (int k = 0; k < count; k++)
        {
            int n = r.ReadInt32(), m = r.ReadInt32();
            var tp = new bool[n * T];
            for (int i = 0; i < tp.Length; i++) tp[i] = r.ReadBoolean();
            var conf = new float[n]; var pc = new int[n];
            for (int i = 0; i < n; i++) { conf[i] = r.ReadSingle(); pc[i] = r.ReadInt32(); }
            var tc = new int[m];
            for (int i = 0; i < m; i++) tc[i] = r.ReadInt32();
            list.Add(new ImageStats(tp, conf, pc, tc));
        }
        return list;
    }

    /// <summary>Adds an image read by <see cref="ReadImages"/>.</summary>
    public void Add(ImageStats image) => Add(image.Tp, image.Confidence, image.PredictedClass, image.TargetClass);

    /// <summary>Forgets everything (a new validation pass).</summary>
    public void Reset()
    {
        _tp.Clear(); _conf.Clear(); _predCls.Clear(); _targetCls.Clear();
        Array.Clear(_imagesPerClass); Array.Clear(_instancesPerClass);
        _perImage.Clear();
        Images = 0;
    }

    /// <summary>Computes every metric from what has been accumulated.</summary>
    public DetectionResults Compute()
    {
        var ap = AveragePrecision.PerClass(_tp.Span, T, _conf.Span, _predCls.Span, _targetCls.Span);
        return new DetectionResults(Names, ap, Images, _imagesPerClass.ToArray(), _instancesPerClass.ToArray()) { Kind = Kind };
    }

    /// <summary>A growable array that hands out spans (List&lt;T&gt; without the per-item overhead).</summary>
    sealed class Buffer<T>
    {
        T[] _items = new T[1024];
        public int Count { get; private set; }
        public ReadOnlySpan<T> Span => _items.AsSpan(0, Count);
        public void Clear() => Count = 0;
        public void Append(ReadOnlySpan<T> values)
        {
            if (Count + values.Length > _items.Length)
                Array.Resize(ref _items, Math.Max(Count + values.Length, _items.Length * 2));
            values.CopyTo(_items.AsSpan(Count));
            Count += values.Length;
        }
    }
}
