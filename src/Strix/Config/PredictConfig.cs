using Strix.Inference;

namespace Strix.Config;

/// <summary>The arguments of <c>strix predict</c>; the prediction defaults live in <see cref="PredictOptions"/>.</summary>
public record PredictConfig : ConfigRecord
{
    static readonly PredictOptions D = new();
    protected override string Command => "predict";

    [Arg("model", "scale name or weights (.safetensors, .pt, .onnx)")] public string Model { get; init; } = "yolov8n";
    [Arg("source", "image or video file, folder, glob, .txt list, camera index (0) or stream URL (rtsp://, http://)")] public string? Source { get; init; }
    [Arg("conf", "lowest confidence reported")] public double Conf { get; init; } = PredictOptions.DefaultConf;
    [Arg("iou", "NMS IoU threshold")] public double Iou { get; init; } = D.Iou;
    [Arg("imgsz", "model input size (default: the model's own)")] public int? ImgSz { get; init; } = D.ImgSz;
    [Arg("max_det", "detections kept per image")] public int MaxDet { get; init; } = D.MaxDet;
    [Arg("classes", "keep only these class ids, e.g. classes=0,2")] public int[]? Classes { get; init; } = D.Classes;
    [Arg("agnostic_nms", "class-agnostic NMS")] public bool AgnosticNms { get; init; } = D.Agnostic;
    [Arg("batch", "images per forward pass")] public int Batch { get; init; } = D.Batch;
    [Arg("vid_stride", "keep every n-th video frame")] public int VidStride { get; init; } = D.VidStride;
    [Arg("stream_buffer", "live sources: queue every frame instead of keeping the newest")] public bool StreamBuffer { get; init; } = D.StreamBuffer;
    [Arg("save", "save annotated images and videos")] public bool Save { get; init; } = true;
    [Arg("save_frames", "save each annotated video frame as a JPEG")] public bool SaveFrames { get; init; }
    [Arg("save_txt", "save YOLO-format labels")] public bool SaveTxt { get; init; }
    [Arg("save_conf", "add the confidence to saved labels")] public bool SaveConf { get; init; }
    [Arg("save_crop", "save each detection's crop, a folder per class")] public bool SaveCrop { get; init; }
    [Arg("show", "display results in a window (no display is supported: false)")] public bool Show { get; init; }
    [Arg("device", "cpu, cuda, cuda:N or N")] public string? Device { get; init; }
    [Arg("project", "runs folder")] public string Project { get; init; } = Path.Combine("runs", "detect");
    [Arg("name", "run name (predict, predict2, …)")] public string Name { get; init; } = "predict";
    [Arg("exist_ok", "reuse an existing run folder")] public bool ExistOk { get; init; }

    /// <summary>The predictor's options for these arguments.</summary>
    public PredictOptions ToOptions() => new()
    {
        Conf = Conf, Iou = Iou, ImgSz = ImgSz, MaxDet = MaxDet, Classes = Classes, Agnostic = AgnosticNms, Batch = Batch,
        VidStride = VidStride, StreamBuffer = StreamBuffer,
    };

    /// <summary>What the run saves.</summary>
    public SaveOptions ToSaveOptions() => new()
    {
        Save = Save, SaveFrames = SaveFrames, SaveTxt = SaveTxt, SaveConf = SaveConf, SaveCrop = SaveCrop,
    };

    public override void Validate()
    {
        ArgChecks.Required("source", Source, "an image or video file, a folder, a glob pattern, a camera index or a stream URL");
        ArgChecks.Confidence("conf", Conf);
        ArgChecks.Iou("iou", Iou);
        if (ImgSz is int s) ArgChecks.ImageSize("imgsz", s);
        ArgChecks.AtLeast("max_det", MaxDet, 1);
        ArgChecks.AtLeast("batch", Batch, 1);
        ArgChecks.AtLeast("vid_stride", VidStride, 1);
        if (Show) throw new ArgumentException("show=true: Strix has no display window; use save=true (annotated images and videos in the run folder)");
        if (Classes is { } c && c.Any(x => x < 0)) throw new ArgumentException($"classes=[{string.Join(", ", c)}]: class ids are ≥ 0");
    }
}

/// <summary>
/// The arguments of <c>strix track</c>: those of predict, plus the tracker file and an optional counting region.
/// As Ultralytics' <c>track</c>, confidence defaults to 0.1 (the tracker's second association needs the
/// low-score detections) and results go to <c>runs/detect/track*</c>.
/// </summary>
public sealed record TrackConfig : PredictConfig
{
    public TrackConfig() { Conf = PredictOptions.TrackingConf; Name = "track"; }

    protected override string Command => "track";

    [Arg("tracker", "bytetrack.yaml, botsort.yaml or a tracker YAML file")] public string Tracker { get; init; } = "bytetrack.yaml";
    [Arg("region", "count objects crossing a line x1,y1,x2,y2 or entering a zone x1,y1,x2,y2,x3,y3,… (pixels)")] public string? Region { get; init; }
    [Arg("persist", "keep track ids across sources (default: ids restart for each video)")] public bool Persist { get; init; }

    public override void Validate()
    {
        base.Validate();
        if (Region is { } r) Inference.Solutions.ObjectCounter.ParseRegion(r);
    }
}
