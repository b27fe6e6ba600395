namespace Strix.Eval;

/// <summary>Settings of a validation pass, with Ultralytics' names and defaults.</summary>
public sealed record ValidatorOptions
{
    /// <summary><c>conf</c>: lowest confidence kept by NMS; low, so the PR curve reaches high recall.</summary>
    public double Conf { get; init; } = 0.001;
    /// <summary><c>iou</c>: NMS IoU threshold.</summary>
    public double Iou { get; init; } = 0.7;
    /// <summary><c>max_det</c>: detections kept per image.</summary>
    public int MaxDet { get; init; } = 300;
    /// <summary><c>single_cls</c>: every class counts as one (NMS class-agnostic, predictions relabelled 0).</summary>
    public bool SingleCls { get; init; }
    /// <summary><c>plots</c>: write the curves, confusion matrices and val_batch images to <see cref="SaveDir"/>.</summary>
    public bool Plots { get; init; } = true;
    /// <summary><c>save_json</c>: write predictions.json (COCO results format) to <see cref="SaveDir"/>.</summary>
    public bool SaveJson { get; init; }
    /// <summary>Folder for plots and json; null writes nothing.</summary>
    public string? SaveDir { get; init; }
    /// <summary><c>verbose</c>: print a row per class after the <c>all</c> row.</summary>
    public bool Verbose { get; init; } = true;
    /// <summary>How many leading batches get val_batchN_labels.jpg / _pred.jpg.</summary>
    public int PlotBatches { get; init; } = 3;
    /// <summary>COCO instances json to score predictions.json with the pycocotools definition (needs <see cref="SaveJson"/>).</summary>
    public string? CocoAnnotations { get; init; }
    /// <summary>Names of the values a loss function returns (logged as <c>val/NAME</c>).</summary>
    public IReadOnlyList<string> LossNames { get; init; } = new[] { "box_loss", "cls_loss", "dfl_loss" };
    /// <summary>Where the table and messages go; null is silent.</summary>
    public Action<string>? Log { get; init; } = Console.WriteLine;

    public void Validate()
    {
        if (!(Conf >= 0 && Conf <= 1)) throw new ArgumentException($"conf={Conf} must be in [0, 1]");
        if (!(Iou > 0 && Iou <= 1)) throw new ArgumentException($"iou={Iou} must be in (0, 1]");
        if (MaxDet < 1) throw new ArgumentException($"max_det={MaxDet} must be at least 1");
    }
}
