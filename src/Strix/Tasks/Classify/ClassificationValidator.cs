using System.Diagnostics;
using Strix.Data;
using Strix.Eval;
using Strix.Inference;
using Strix.Models;
using Strix.Plotting;
using Strix.Tasks.Detect;
using TorchSharp;
using static TorchSharp.torch;

namespace Strix.Tasks.Classify;

/// <summary>What a classification validation pass produced.</summary>
public sealed record ClassificationResult(ClassificationMetrics Metrics, double? Loss, ConfusionMatrix Confusion, ValidationSpeed Speed, IReadOnlyList<string> Files)
{
    /// <summary>Ultralytics' keys: <c>metrics/accuracy_top1</c>, <c>metrics/accuracy_top5</c>, <c>val/loss</c>, <c>fitness</c>.</summary>
    public IReadOnlyDictionary<string, double> ToDictionary()
    {
        var d = new Dictionary<string, double>(Metrics.ToDictionary());
        if (Loss is double l) d["val/loss"] = l;
        return d;
    }
}

/// <summary>
/// The classification validator, used by training and by <c>strix val</c>: per batch the softmax's five best
/// classes against the true class (top-1 / top-5 accuracy), the top-1 confusion matrix and the mean cross-entropy
/// over images. Everything it keeps is a sum, so data-parallel shards merge exactly (<see cref="ExportShard"/>).
/// The final pass prints Ultralytics' table and writes the confusion matrices and val_batch pictures.
/// </summary>
public sealed class ClassificationValidator
{
    readonly IReadOnlyList<string> _names;
    readonly ValidatorOptions _options;
    ConfusionMatrix _confusion;
    long _images, _top1, _top5;
    double _lossSum, _preMs, _inferMs, _lossMs, _postMs;
    bool _hasLoss;
    readonly List<string> _files = new();

    public ClassificationValidator(IReadOnlyList<string> names, ValidatorOptions options)
    {
        if (names.Count < 1) throw new ArgumentException("a classifier needs at least one class name");
        _names = names.ToArray();
        _options = options;
        _confusion = ConfusionMatrix.ForClassification(names.Count);
    }

    public ValidatorOptions Options => _options;

    /// <summary>Clears the statistics for a new pass.</summary>
    public void Begin()
    {
        _confusion = ConfusionMatrix.ForClassification(_names.Count);
        _images = _top1 = _top5 = 0;
        _lossSum = _preMs = _inferMs = _lossMs = _postMs = 0;
        _hasLoss = false;
        _files.Clear();
    }

    /// <summary>One batch through <paramref name="model"/> (in eval mode); with <paramref name="withLoss"/> its cross-entropy too.</summary>
    public void Step(DetectionModel model, Batch batch, int batchIdx, bool withLoss = true) =>
        Step(images => model.forward(images)[0], batch.ModelInput, batch, batchIdx, withLoss);

    /// <summary>One batch through a backend (ONNX Runtime, TorchSharp): its probabilities, no loss.</summary>
    public void Step(IDetectionBackend backend, Batch batch, int batchIdx) =>
        Step(images => backend.ForwardOutputs(images)[0], device => batch.FloatImages(device), batch, batchIdx, withLoss: false, backend.Device);

    /// <summary>
    /// The shared step: <paramref name="input"/> makes the float images on the device, <paramref name="scores"/> gives logits
    /// (or probabilities, when there is no loss) [B, nc].
    /// </summary>
    void Step(Func<Tensor, Tensor> scores, Func<Device, Tensor> input, Batch batch, int batchIdx, bool withLoss, Device? device = null)
    {
        var sw = Stopwatch.StartNew();
        using var scope = NewDisposeScope();
        var images = input(device ?? batch.Images.device);
        _preMs += sw.Elapsed.TotalMilliseconds; sw.Restart();
        Tensor logits;
        using (no_grad()) logits = scores(images);
        _inferMs += sw.Elapsed.TotalMilliseconds; sw.Restart();
        var targets = batch.Cls.to(logits.device).to(ScalarType.Int64);
        if (withLoss)
        {
            using var ce = nn.functional.cross_entropy(logits, targets, reduction: nn.Reduction.Sum);
            _lossSum += ce.item<float>();
            _hasLoss = true;
        }
        _lossMs += sw.Elapsed.TotalMilliseconds; sw.Restart();
        Add(logits, targets);
        _postMs += sw.Elapsed.TotalMilliseconds;
        if (_options.Plots && _options.SaveDir is { } dir && batchIdx < _options.PlotBatches) PlotBatch(batch, logits, dir, batchIdx);
    }

    /// <summary>A whole pass of <paramref name="model"/> (put in eval mode) over <paramref name="loader"/>'s images, with the loss.</summary>
    public ClassificationResult Run(DetectionModel model, ClassificationLoader loader)
    {
        model.eval();
        Begin();
        int i = 0;
        var device = model.parameters().First().device;
        foreach (var batch in loader.GetEpoch(0))
            using (batch)
            {
                using var moved = batch.Images.device == device ? null : batch.To(device);
                Step(model, moved ?? batch, i++);
            }
        return End();
    }

    /// <summary>A whole pass of <paramref name="backend"/> (an exported classifier) over <paramref name="loader"/>'s images.</summary>
    public ClassificationResult Run(IDetectionBackend backend, ClassificationLoader loader)
    {
        if (backend.Task != "classify") throw new ArgumentException($"the backend runs a {backend.Task} model, not a classifier");
        Begin();
        int i = 0;
        foreach (var batch in loader.GetEpoch(0))
            using (batch) Step(backend, batch, i++);
        return End();
    }

    /// <summary>Adds a batch of logits (or probabilities) [B, nc] and true classes [B] to the statistics.</summary>
    public void Add(Tensor scores, Tensor targets)
    {
        using var scope = NewDisposeScope();
        int k = (int)Math.Min(5, scores.shape[1]);
        var top = scores.topk(k, dim: 1).indexes.cpu();
        var t = targets.to(ScalarType.Int64).cpu();
        var topK = top.data<long>().ToArray();
        var truth = t.data<long>().ToArray();
        for (int i = 0; i < truth.Length; i++)
        {
            long y = truth[i];
            if (topK[i * k] == y) _top1++;
            for (int j = 0; j < k; j++) if (topK[i * k + j] == y) { _top5++; break; }
            _confusion.ProcessClassification((int)topK[i * k], (int)y);
        }
        _images += truth.Length;
    }

    /// <summary>This process's sums, for <see cref="MergeShards"/> on every rank.</summary>
    public byte[] ExportShard()
    {
        var m = _confusion.Matrix;
        var values = new List<double> { _images, _top1, _top5, _lossSum, _hasLoss ? 1 : 0 };
        values.AddRange(m.Cast<double>());
        var bytes = new byte[values.Count * sizeof(double)];
        Buffer.BlockCopy(values.ToArray(), 0, bytes, 0, bytes.Length);
        return bytes;
    }

    /// <summary>Replaces the statistics with the sum of every rank's shard.</summary>
    public void MergeShards(IReadOnlyList<byte[]> shards)
    {
        int cells = _confusion.Size * _confusion.Size, width = 5 + cells;
        var sum = new double[width];
        foreach (var bytes in shards)
        {
            if (bytes.Length != width * sizeof(double))
                throw new InvalidDataException($"a classification shard holds {bytes.Length} bytes, this validator's hold {width * sizeof(double)} (different class counts?)");
            var v = new double[width];
            Buffer.BlockCopy(bytes, 0, v, 0, bytes.Length);
            for (int i = 0; i < width; i++) sum[i] += v[i];
        }
        _images = (long)sum[0]; _top1 = (long)sum[1]; _top5 = (long)sum[2]; _lossSum = sum[3]; _hasLoss = sum[4] > 0;
        _confusion = ConfusionMatrix.ForClassification(_names.Count);
        var m = _confusion.Matrix;
        for (int i = 0; i < cells; i++) m[i / _confusion.Size, i % _confusion.Size] = sum[5 + i];
    }

    /// <summary>Finishes the pass: the metrics, the printed table, and (final pass) the plots.</summary>
    public ClassificationResult End()
    {
        double n = Math.Max(1, _images);
        var metrics = new ClassificationMetrics(_top1 / n, _top5 / n, (int)_images);
        var speed = new ValidationSpeed(_preMs / n, _inferMs / n, _lossMs / n, _postMs / n);
        if (_options.Log is { } log)
        {
            log(metrics.Table());
            if (_images == 0) log("WARNING ⚠️ no validation images, can not compute accuracy");
            if (_options.PrintSpeed) log($"Speed: {speed}");
        }
        if (_options.Plots && _options.SaveDir is { } dir && _images > 0)
            _files.AddRange(ConfusionMatrixPlot.SaveBoth(_confusion, _names, dir));
        return new ClassificationResult(metrics, _hasLoss ? _lossSum / n : null, _confusion, speed, _files.ToList());
    }

    /// <summary>val_batchN_labels.jpg (true classes) and val_batchN_pred.jpg (top-1 classes) as Ultralytics draws them.</summary>
    void PlotBatch(Batch batch, Tensor logits, string dir, int batchIdx)
    {
        using var cpu = batch.Images.device.type == DeviceType.CPU ? null : batch.To(CPU);
        var b = cpu ?? batch;
        var labels = Path.Combine(dir, $"val_batch{batchIdx}_labels.jpg");
        DataPlots.PlotBatch(b, _names, labels);
        using var scope = NewDisposeScope();
        var predicted = logits.argmax(1).to(ScalarType.Float32).cpu();
        var asPredicted = new Batch { Images = b.Images, BatchIdx = b.BatchIdx, Bboxes = b.Bboxes, Cls = predicted, Count = b.Count, Files = b.Files };
        var pred = Path.Combine(dir, $"val_batch{batchIdx}_pred.jpg");
        DataPlots.PlotBatch(asPredicted, _names, pred); // shares the batch's tensors: not disposed here
        _files.Add(labels); _files.Add(pred);
    }
}
