using Strix.Inference;

namespace Strix.Config;

/// <summary>The arguments of <c>strix predict</c>; the prediction defaults live in <see cref="PredictOptions"/>.</summary>
public sealed record PredictConfig : ConfigRecord
{
    static readonly PredictOptions D = new();
    protected override string Command => "predict";

    [Arg("model", "scale name or weights (.safetensors, .pt, .onnx)")] public string Model { get; init; } = "yolov8n";
    [Arg("source", "an image file, a folder or a glob pattern")] public string? Source { get; init; }
    [Arg("conf", "lowest confidence reported")] public double Conf { get; init; } = D.Conf;
    [Arg("iou", "NMS IoU threshold")] public double Iou { get; init; } = D.Iou;
    [Arg("imgsz", "model input size (default: the model's own)")] public int? ImgSz { get; init; } = D.ImgSz;
    [Arg("max_det", "detections kept per image")] public int MaxDet { get; init; } = D.MaxDet;
    [Arg("classes", "keep only these class ids, e.g. classes=0,2")] public int[]? Classes { get; init; } = D.Classes;
    [Arg("agnostic_nms", "class-agnostic NMS")] public bool AgnosticNms { get; init; } = D.Agnostic;
    [Arg("batch", "images per forward pass")] public int Batch { get; init; } = D.Batch;
    [Arg("save", "save annotated images")] public bool Save { get; init; } = true;
    [Arg("save_txt", "save YOLO-format labels")] public bool SaveTxt { get; init; }
    [Arg("save_conf", "add the confidence to saved labels")] public bool SaveConf { get; init; }
    [Arg("device", "cpu, cuda, cuda:N or N")] public string? Device { get; init; }
    [Arg("project", "runs folder")] public string Project { get; init; } = Path.Combine("runs", "detect");
    [Arg("name", "run name (predict, predict2, …)")] public string Name { get; init; } = "predict";
    [Arg("exist_ok", "reuse an existing run folder")] public bool ExistOk { get; init; }

    /// <summary>The predictor's options for these arguments.</summary>
    public PredictOptions ToOptions() => new()
    {
        Conf = Conf, Iou = Iou, ImgSz = ImgSz, MaxDet = MaxDet, Classes = Classes, Agnostic = AgnosticNms, Batch = Batch,
    };

    public override void Validate()
    {
        ArgChecks.Required("source", Source, "an image file, a folder or a glob pattern");
        ArgChecks.Confidence("conf", Conf);
        ArgChecks.Iou("iou", Iou);
        if (ImgSz is int s) ArgChecks.ImageSize("imgsz", s);
        ArgChecks.AtLeast("max_det", MaxDet, 1);
        ArgChecks.AtLeast("batch", Batch, 1);
        if (Classes is { } c && c.Any(x => x < 0)) throw new ArgumentException($"classes=[{string.Join(", ", c)}]: class ids are ≥ 0");
    }
}
