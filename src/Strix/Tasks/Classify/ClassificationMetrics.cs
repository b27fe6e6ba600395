using System.Globalization;

namespace Strix.Tasks.Classify;

/// <summary>
/// Top-1 and top-5 accuracy over a validation pass (Ultralytics' <c>ClassifyMetrics</c>): the share of images whose
/// true class is the first prediction, or among the first five (all classes when there are fewer than five).
/// </summary>
public sealed record ClassificationMetrics(double Top1, double Top5, int Images)
{
    /// <summary>Ultralytics' model-selection score for classification: the mean of top-1 and top-5.</summary>
    public double Fitness => (Top1 + Top5) / 2;

    /// <summary>Ultralytics' result keys.</summary>
    public IReadOnlyDictionary<string, double> ToDictionary() => new Dictionary<string, double>
    {
        ["metrics/accuracy_top1"] = Top1, ["metrics/accuracy_top5"] = Top5, ["fitness"] = Fitness,
    };

    /// <summary>The table Ultralytics prints: <c>classes top1_acc top5_acc</c>, then the <c>all</c> row.</summary>
    public string Table() => string.Create(CultureInfo.InvariantCulture,
        $"{"classes",22}{"top1_acc",11}{"top5_acc",11}\n{"all",22}{G3(Top1),11}{G3(Top5),11}");

    static string G3(double v) => v.ToString("G3", CultureInfo.InvariantCulture);
}
