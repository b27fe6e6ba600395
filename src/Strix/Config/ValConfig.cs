using Strix.Data;

namespace Strix.Config;

/// <summary>
/// The arguments of <c>strix val</c> with Ultralytics' names; the validation defaults (<c>conf</c> 0.001,
/// <c>iou</c> 0.7, <c>max_det</c> 300) are also what training validates with.
/// </summary>
public sealed record ValConfig : ConfigRecord
{
    protected override string Command => "val";

    [Arg("model", "weights to validate (.safetensors, .pt, .onnx)")] public string? Model { get; init; }
    [Arg("data", "data.yaml, or 'shapes'")] public string? Data { get; init; }
    [Arg("imgsz", "image size (rounded up to the model's stride)")] public int ImgSz { get; init; } = 640;
    [Arg("batch", "images per batch")] public int Batch { get; init; } = 32;
    [Arg("conf", "lowest confidence kept by NMS (low, so the PR curve reaches high recall)")] public double Conf { get; init; } = 0.001;
    [Arg("iou", "NMS IoU threshold")] public double Iou { get; init; } = 0.7;
    [Arg("max_det", "detections kept per image")] public int MaxDet { get; init; } = 300;
    [Arg("split", "dataset split: val, train or test")] public string Split { get; init; } = "val";
    [Arg("save_json", "write predictions.json (COCO results format)")] public bool SaveJson { get; init; }
    [Arg("plots", "write curves, confusion matrices and val_batch images")] public bool Plots { get; init; } = true;
    [Arg("rect", "rectangular batches of similar aspect ratio")] public bool Rect { get; init; } = true;
    [Arg("single_cls", "every class counts as one")] public bool SingleCls { get; init; }
    [Arg("verbose", "print a row per class")] public bool Verbose { get; init; } = true;
    [Arg("workers", "data loading threads")] public int Workers { get; init; } = DataLoaderOptions.DefaultWorkers;
    [Arg("device", "cpu, cuda, cuda:N or N")] public string? Device { get; init; }
    [Arg("project", "runs folder")] public string Project { get; init; } = Path.Combine("runs", "detect");
    [Arg("name", "run name (val, val2, …)")] public string Name { get; init; } = "val";
    [Arg("exist_ok", "reuse an existing run folder")] public bool ExistOk { get; init; }
    [Arg("fuse", "fold batch norms into the convolutions first (the metrics then differ from training's in the 6th digit)")] public bool Fuse { get; init; }

    public static ValConfig Defaults { get; } = new();

    public override void Validate()
    {
        ArgChecks.Required("model", Model, "a weights file (.safetensors, .pt, .onnx)");
        ArgChecks.Required("data", Data, "a data.yaml path");
        ArgChecks.ImageSize("imgsz", ImgSz);
        ArgChecks.AtLeast("batch", Batch, 1);
        ArgChecks.Confidence("conf", Conf);
        ArgChecks.Iou("iou", Iou);
        ArgChecks.AtLeast("max_det", MaxDet, 1);
        ArgChecks.AtLeast("workers", Workers, 0);
    }
}
