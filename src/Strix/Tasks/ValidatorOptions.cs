using Strix.Config;

namespace Strix.Tasks;

/// <summary>Settings of a validation pass, with Ultralytics' names; the defaults are <see cref="ValConfig"/>'s.</summary>
public sealed record ValidatorOptions
{
    /// <summary><c>conf</c>: lowest confidence kept by NMS; low, so the PR curve reaches high recall.</summary>
    public double Conf { get; init; } = ValConfig.Defaults.Conf;
    /// <summary><c>iou</c>: NMS IoU threshold.</summary>
    public double Iou { get; init; } = ValConfig.Defaults.Iou;
    /// <summary><c>max_det</c>: detections kept per image.</summary>
    public int MaxDet { get; init; } = ValConfig.Defaults.MaxDet;
    /// <summary><c>single_cls</c>: every class counts as one (NMS class-agnostic, predictions and labels counted as class 0).</summary>
    public bool SingleCls { get; init; }
    /// <summary><c>plots</c>: write the curves, confusion matrices and val_batch images to <see cref="SaveDir"/>.</summary>
    public bool Plots { get; init; } = ValConfig.Defaults.Plots;
    /// <summary><c>save_json</c>: write predictions.json (COCO results format) to <see cref="SaveDir"/>.</summary>
    public bool SaveJson { get; init; }
    /// <summary>Folder for plots and json; null writes nothing.</summary>
    public string? SaveDir { get; init; }
    /// <summary><c>verbose</c>: print a row per class after the <c>all</c> row.</summary>
    public bool Verbose { get; init; } = ValConfig.Defaults.Verbose;
    /// <summary>How many leading batches get val_batchN_labels.jpg / _pred.jpg.</summary>
    public int PlotBatches { get; init; } = 3;
    /// <summary>COCO instances json to score predictions.json with the pycocotools definition (needs <see cref="SaveJson"/>).</summary>
    public string? CocoAnnotations { get; init; }
    /// <summary>Names of the values a loss function returns (logged as <c>val/NAME</c>).</summary>
    public IReadOnlyList<string> LossNames { get; init; } = new[] { "box_loss", "cls_loss", "dfl_loss" };
    /// <summary>Print the speed per image after the table (<c>strix val</c>, the final evaluation; not every training epoch).</summary>
    public bool PrintSpeed { get; init; } = true;
    /// <summary>Print where plots and json went (<c>strix val</c>; training says where its run folder is itself).</summary>
    public bool PrintSaveDir { get; init; } = true;
    /// <summary>Where the table and messages go; null is silent.</summary>
    public Action<string>? Log { get; init; } = Console.WriteLine;

    public void Validate()
    {
        ArgChecks.Confidence("conf", Conf);
        ArgChecks.Iou("iou", Iou);
        ArgChecks.AtLeast("max_det", MaxDet, 1);
        ArgChecks.AtLeast("plot_batches", PlotBatches, 0);
    }
}
