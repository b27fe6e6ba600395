using System.Globalization;
using Strix.Eval;

namespace Strix.Tasks.Detect;

/// <summary>Milliseconds per image spent in each stage of validation.</summary>
public readonly record struct ValidationSpeed(double Preprocess, double Inference, double Loss, double Postprocess)
{
    public override string ToString() => string.Format(CultureInfo.InvariantCulture,
        "{0:0.0}ms preprocess, {1:0.0}ms inference, {2:0.0}ms loss, {3:0.0}ms postprocess per image", Preprocess, Inference, Loss, Postprocess);
}

/// <summary>What a validation pass produced.</summary>
public sealed class ValidationResult
{
    internal ValidationResult(DetectionResults metrics, ValidationSpeed speed, IReadOnlyDictionary<string, double> losses,
        ConfusionMatrix? confusion, CocoEvalResult? coco, string? saveDir, IReadOnlyList<string> files)
    {
        Metrics = metrics; Speed = speed; Losses = losses; Confusion = confusion; Coco = coco; SaveDir = saveDir; Files = files;
    }

    /// <summary>The box metrics.</summary>
    public DetectionResults Metrics { get; }
    /// <summary>The second set of metrics: a segmentation model's masks (<c>(M)</c>) or a pose model's keypoints (<c>(P)</c>); null for detection.</summary>
    public DetectionResults? Masks { get; init; }
    public ValidationSpeed Speed { get; }
    /// <summary>Mean validation losses per batch, keyed <c>val/box_loss</c> …; empty without a loss function.</summary>
    public IReadOnlyDictionary<string, double> Losses { get; }
    public ConfusionMatrix? Confusion { get; }
    /// <summary>pycocotools-definition numbers of predictions.json, when COCO annotations were given.</summary>
    public CocoEvalResult? Coco { get; }
    public string? SaveDir { get; }
    /// <summary>Files written (plots, predictions.json).</summary>
    public IReadOnlyList<string> Files { get; }
    /// <summary>Model selection score: the boxes' 0.1·mAP50 + 0.9·mAP50-95, plus the masks' for segmentation (Ultralytics' rule).</summary>
    public double Fitness => Metrics.Fitness + (Masks?.Fitness ?? 0);

    /// <summary>Ultralytics' result keys (<c>metrics/mAP50(B)</c> …, <c>val/box_loss</c> …, <c>fitness</c>).</summary>
    public IReadOnlyDictionary<string, double> ToDictionary()
    {
        var d = new Dictionary<string, double>(Metrics.ToDictionary());
        if (Masks is not null) foreach (var kv in Masks.ToDictionary()) d[kv.Key] = kv.Value;
        d["fitness"] = Fitness;
        foreach (var kv in Losses) d[kv.Key] = kv.Value;
        if (Coco is not null) { d["metrics/coco/mAP50-95(B)"] = Coco.Map; d["metrics/coco/mAP50(B)"] = Coco.Map50; }
        return d;
    }
}
