namespace Strix.Eval;

/// <summary>
/// The outcome of a validation pass: the headline numbers (mean P, R, mAP50, mAP75, mAP50-95,
/// fitness), per-class values and the curves the plots draw. Class-level arrays are indexed by
/// row; <see cref="ClassIndex"/> maps a row to its class id (only classes present in the ground
/// truth have a row, as in Ultralytics).
/// </summary>
public sealed class DetectionResults
{
    internal DetectionResults(IReadOnlyList<string> names, AveragePrecision.Result ap, int images, int[] imagesPerClass, int[] instancesPerClass)
    {
        Names = names;
        Curves = ap;
        Images = images;
        ImagesPerClass = imagesPerClass;
        InstancesPerClass = instancesPerClass;
        int k = ap.Classes.Length;
        Ap50 = ap.Ap.Select(a => a[0]).ToArray();
        Ap75 = ap.Ap.Select(a => a.Length > 5 ? a[5] : double.NaN).ToArray();
        Ap5095 = ap.Ap.Select(a => a.Average()).ToArray();
        MeanPrecision = k > 0 ? ap.Precision.Average() : 0;
        MeanRecall = k > 0 ? ap.Recall.Average() : 0;
        Map50 = k > 0 ? Ap50.Average() : 0;
        Map75 = k > 0 ? Ap75.Average() : 0;
        Map = k > 0 ? Ap5095.Average() : 0;
        var maps = Enumerable.Repeat(Map, names.Count).ToArray();
        for (int r = 0; r < k; r++) maps[ap.Classes[r]] = Ap5095[r];
        Maps = maps;
    }

    public IReadOnlyList<string> Names { get; }
    public int Images { get; }
    /// <summary>Ground-truth instances of all classes.</summary>
    public int Instances => InstancesPerClass.Sum();
    /// <summary>Images containing each class, by class id.</summary>
    public IReadOnlyList<int> ImagesPerClass { get; }
    /// <summary>Ground-truth instances of each class, by class id.</summary>
    public IReadOnlyList<int> InstancesPerClass { get; }

    /// <summary>Class id of each row.</summary>
    public IReadOnlyList<int> ClassIndex => Curves.Classes;
    public IReadOnlyList<double> Precision => Curves.Precision;
    public IReadOnlyList<double> Recall => Curves.Recall;
    public IReadOnlyList<double> F1 => Curves.F1;
    /// <summary>AP at IoU 0.5 per row.</summary>
    public IReadOnlyList<double> Ap50 { get; }
    /// <summary>AP at IoU 0.75 per row.</summary>
    public IReadOnlyList<double> Ap75 { get; }
    /// <summary>AP averaged over IoU 0.50:0.95 per row.</summary>
    public IReadOnlyList<double> Ap5095 { get; }
    /// <summary>AP50-95 by class id; classes without ground truth get the overall mAP50-95 (Ultralytics' maps).</summary>
    public IReadOnlyList<double> Maps { get; }

    /// <summary>Mean precision over classes at the confidence maximising mean F1.</summary>
    public double MeanPrecision { get; }
    /// <summary>Mean recall over classes at that confidence.</summary>
    public double MeanRecall { get; }
    public double Map50 { get; }
    public double Map75 { get; }
    /// <summary>mAP averaged over IoU 0.50:0.95.</summary>
    public double Map { get; }
    /// <summary>The confidence at which P and R are reported.</summary>
    public double BestConfidence => Curves.X[Curves.BestIndex];
    /// <summary>Model selection score: 0.1·mAP50 + 0.9·mAP50-95.</summary>
    public double Fitness => 0.1 * Map50 + 0.9 * Map;

    /// <summary>The raw per-class arrays and curves (P/R/F1 vs confidence, PR at IoU 0.5).</summary>
    public AveragePrecision.Result Curves { get; }

    /// <summary>Metric row for one class id, or null when the class has no ground truth.</summary>
    public (double P, double R, double Ap50, double Ap5095)? ForClass(int classId)
    {
        int r = Array.IndexOf(Curves.Classes, classId);
        return r < 0 ? null : (Precision[r], Recall[r], Ap50[r], Ap5095[r]);
    }

    /// <summary>What was matched: <c>B</c> for boxes, <c>M</c> for masks (the letter in Ultralytics' result keys).</summary>
    public string Kind { get; init; } = "B";

    /// <summary>The numbers under Ultralytics' result keys (for results.csv and loggers).</summary>
    public IReadOnlyDictionary<string, double> ToDictionary() => new Dictionary<string, double>
    {
        [$"metrics/precision({Kind})"] = MeanPrecision,
        [$"metrics/recall({Kind})"] = MeanRecall,
        [$"metrics/mAP50({Kind})"] = Map50,
        [$"metrics/mAP50-95({Kind})"] = Map,
        ["fitness"] = Fitness,
    };
}
