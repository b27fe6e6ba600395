using System.Globalization;
using Strix.Data;
using Strix.Engine;
using Strix.Engine.Precision;

namespace Strix.Config;

/// <summary>
/// Every argument of <c>strix train</c>, in the order of Ultralytics' <c>default.yaml</c> (which is the
/// order <c>args.yaml</c> lists), with Ultralytics' names and defaults where Ultralytics has the argument,
/// plus Lightning's loop flags (<c>precision</c>, <c>fast_dev_run</c>, <c>overfit_batches</c>,
/// <c>limit_train_batches</c>, <c>limit_val_batches</c>, <c>max_steps</c>). Build it in code
/// (<c>new TrainConfig { Data = "my.yaml", Epochs = 50 }</c>) or parse a command line
/// (<c>ConfigRecords.Parse&lt;TrainConfig&gt;(args)</c>).
/// </summary>
public sealed record TrainConfig : ConfigRecord, IAugmentationArgs
{
    protected override string Command => "train";

    /// <summary>The task trained: detect or segment; when not given, segment for a -seg model= name.</summary>
    [Arg("task", "task: detect or segment (default: segment for a -seg model, else detect)")] public string Task { get; init; } = "detect";
    [Arg("mode", "mode")] public string Mode { get; init; } = "train";
    [Arg("model", "scale name (yolov8n…x) or weights (.safetensors, .pt, .onnx)")] public string Model { get; init; } = "yolov8n";
    [Arg("data", "data.yaml, or 'shapes' for the built-in dataset")] public string Data { get; init; } = "shapes";
    [Arg("epochs", "epochs to train")] public int Epochs { get; init; } = 100;
    [Arg("time", "hours to train (overrides epochs)")] public double? Time { get; init; }
    [Arg("patience", "epochs without fitness improvement before stopping early (0: never)")] public int Patience { get; init; } = 100;
    [Arg("batch", "images per batch (the total over all ranks)")] public int Batch { get; init; } = 16;
    [Arg("imgsz", "training image size")] public int ImgSz { get; init; } = 640;
    [Arg("save", "save checkpoints")] public bool Save { get; init; } = true;
    [Arg("save_period", "also save epochN every N epochs (≤0: off)")] public int SavePeriod { get; init; } = -1;
    [Arg("cache", "cache decoded images: ram, disk or false")] public ImageCacheMode Cache { get; init; } = ImageCacheMode.None;
    [Arg("device", "cpu, cuda, cuda:N or N (default: cuda:0 when available, else cpu)")] public string? Device { get; init; }
    [Arg("workers", "data loading threads")] public int Workers { get; init; } = 8;
    [Arg("project", "runs folder (default runs/detect)")] public string? Project { get; init; }
    [Arg("name", "run name (default train, train2, …)")] public string? Name { get; init; }
    [Arg("exist_ok", "reuse an existing run folder")] public bool ExistOk { get; init; }
    [Arg("pretrained", "start from the weights of model= (false: its architecture only)")] public bool Pretrained { get; init; } = true;
    [Arg("optimizer", "SGD, Adam, AdamW or auto")] public string Optimizer { get; init; } = "auto";
    [Arg("verbose", "print more")] public bool Verbose { get; init; } = true;
    [Arg("seed", "random seed")] public int Seed { get; init; }
    [Arg("deterministic", "deterministic algorithms where the backend allows")] public bool Deterministic { get; init; } = true;
    [Arg("single_cls", "treat every class as one")] public bool SingleCls { get; init; }
    [Arg("rect", "rectangular training batches (no mosaic, no shuffle)")] public bool Rect { get; init; }
    [Arg("cos_lr", "cosine learning-rate decay")] public bool CosLr { get; init; }
    [Arg("close_mosaic", "turn mosaic off for the last N epochs")] public int CloseMosaic { get; init; } = AugmentationArgs.Defaults.CloseMosaic;
    [Arg("resume", "resume from a checkpoint (model= or resume=path)")] public string Resume { get; init; } = "false";
    [Arg("amp", "mixed precision on CUDA when precision= is not given (fp16-mixed)")] public bool Amp { get; init; } = true;
    [Arg("fraction", "fraction of the training images to use")] public double Fraction { get; init; } = 1.0;
    [Arg("freeze", "freeze the first N layers, or a list of layer indices")] public string? Freeze { get; init; }
    [Arg("val", "validate every epoch (false: only after the last)")] public bool Val { get; init; } = true;
    [Arg("split", "dataset split to validate on")] public string Split { get; init; } = "val";
    [Arg("iou", "NMS IoU threshold for validation")] public double Iou { get; init; } = ValConfig.Defaults.Iou;
    [Arg("max_det", "maximum detections per image in validation")] public int MaxDet { get; init; } = ValConfig.Defaults.MaxDet;
    [Arg("plots", "save plots and batch images")] public bool Plots { get; init; } = true;
    [Arg("lr0", "initial learning rate")] public double Lr0 { get; init; } = 0.01;
    [Arg("lrf", "final learning rate as a fraction of lr0")] public double Lrf { get; init; } = 0.01;
    [Arg("momentum", "SGD momentum / Adam beta1")] public double Momentum { get; init; } = 0.937;
    [Arg("weight_decay", "weight decay (scaled by batch·accumulate/nbs)")] public double WeightDecay { get; init; } = 0.0005;
    [Arg("warmup_epochs", "warm-up epochs (at least 100 iterations)")] public double WarmupEpochs { get; init; } = 3.0;
    [Arg("warmup_momentum", "initial warm-up momentum")] public double WarmupMomentum { get; init; } = 0.8;
    [Arg("warmup_bias_lr", "initial warm-up learning rate of the biases")] public double WarmupBiasLr { get; init; } = 0.1;
    [Arg("box", "box loss gain")] public double Box { get; init; } = 7.5;
    [Arg("cls", "class loss gain")] public double Cls { get; init; } = 0.5;
    [Arg("pose", "pose: keypoint location loss gain")] public double PoseGain { get; init; } = 12.0;
    [Arg("kobj", "pose: keypoint visibility loss gain")] public double Kobj { get; init; } = 1.0;
    [Arg("dfl", "distribution focal loss gain")] public double Dfl { get; init; } = 1.5;
    [Arg("overlap_mask", "segment: one mask plane per image, smaller objects on top (false: a plane per object)")] public bool OverlapMask { get; init; } = true;
    [Arg("mask_ratio", "segment: target masks at 1/mask_ratio of the input size")] public int MaskRatio { get; init; } = 4;
    [Arg("nbs", "nominal batch size")] public int Nbs { get; init; } = 64;
    [Arg("hsv_h", "hue augmentation (fraction)")] public double HsvH { get; init; } = AugmentationArgs.Defaults.HsvH;
    [Arg("hsv_s", "saturation augmentation (fraction)")] public double HsvS { get; init; } = AugmentationArgs.Defaults.HsvS;
    [Arg("hsv_v", "value augmentation (fraction)")] public double HsvV { get; init; } = AugmentationArgs.Defaults.HsvV;
    [Arg("degrees", "rotation (± degrees)")] public double Degrees { get; init; } = AugmentationArgs.Defaults.Degrees;
    [Arg("translate", "translation (± fraction)")] public double Translate { get; init; } = AugmentationArgs.Defaults.Translate;
    [Arg("scale", "scale (± gain)")] public double Scale { get; init; } = AugmentationArgs.Defaults.Scale;
    [Arg("shear", "shear (± degrees)")] public double Shear { get; init; } = AugmentationArgs.Defaults.Shear;
    [Arg("perspective", "perspective (± fraction)")] public double Perspective { get; init; } = AugmentationArgs.Defaults.Perspective;
    [Arg("flipud", "up-down flip probability")] public double FlipUD { get; init; } = AugmentationArgs.Defaults.FlipUD;
    [Arg("fliplr", "left-right flip probability")] public double FlipLR { get; init; } = AugmentationArgs.Defaults.FlipLR;
    [Arg("mosaic", "mosaic probability")] public double Mosaic { get; init; } = AugmentationArgs.Defaults.Mosaic;
    [Arg("mixup", "mixup probability")] public double MixUp { get; init; } = AugmentationArgs.Defaults.MixUp;
    [Arg("erasing", "classify: random erasing probability")] public double Erasing { get; init; } = Strix.Data.ClassifyTransforms.DefaultErasing;
    [Arg("auto_augment", "classify: randaugment (in place of HSV jitter) or none")] public string AutoAugment { get; init; } = "randaugment";
    [Arg("precision", "32, bf16-mixed or fp16-mixed (default 32; fp16-mixed on CUDA with amp)")] public PrecisionMode? Precision { get; init; }
    [Arg("fast_dev_run", "one training and one validation batch, nothing written")] public bool FastDevRun { get; init; }
    [Arg("overfit_batches", "train on the first N batches only (0: off)")] public int OverfitBatches { get; init; }
    [Arg("limit_train_batches", "batches (N) or fraction (0.x) of each training epoch")] public BatchLimit? LimitTrainBatches { get; init; }
    [Arg("limit_val_batches", "batches (N) or fraction (0.x) of each validation")] public BatchLimit? LimitValBatches { get; init; }
    [Arg("max_steps", "stop after N optimizer steps")] public long? MaxSteps { get; init; }
    [Arg("profiler", "simple: time each training action (wall and CPU), print the table, write profile.json")] public string? Profiler { get; init; }

    /// <summary>The defaults (what <c>strix train</c> uses for every argument not given).</summary>
    public static TrainConfig Defaults { get; } = new();

    /// <summary>
    /// Arguments a resumed run may change; everything else comes from the checkpoint. <c>data</c> is among them so a
    /// run whose dataset moved can continue from the new place (the same data, or the run is no longer exact).
    /// </summary>
    public static readonly IReadOnlyList<string> ResumeOverridable =
        new[] { "epochs", "time", "patience", "device", "workers", "plots", "save_period", "val", "precision", "max_steps", "verbose", "data", "cache" };

    /// <summary>The checkpoint to resume from: <c>resume=path</c>, or bare <c>resume</c> with <c>model=</c> the checkpoint; null when not resuming.</summary>
    public string? ResumePath => Resume.ToLowerInvariant() switch
    {
        "false" or "0" or "no" or "off" => null,
        "true" or "1" or "yes" or "on" => Model,
        _ => Resume,
    };

    /// <summary><c>freeze</c>: an int N (the first N layers) or a list of layer indices; null when not set.</summary>
    public int[]? FrozenLayers()
    {
        var v = Freeze?.Trim();
        if (string.IsNullOrEmpty(v)) return null;
        var parts = v.Trim('[', ']').Split(new[] { ',', ' ' }, StringSplitOptions.RemoveEmptyEntries);
        var ints = parts.Select(p => int.TryParse(p, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) && i >= 0 ? i
            : throw new ArgumentException($"freeze={v}: '{p}' is not a layer index")).ToArray();
        bool isList = v.StartsWith('[') || parts.Length > 1;
        return isList ? ints : Enumerable.Range(0, ints.Length == 0 ? 0 : ints[0]).ToArray();
    }

    public override void Validate()
    {
        ArgChecks.Required("task", Task, "detect, segment or classify");
        ArgChecks.Probability("erasing", Erasing);
        Strix.Data.ClassifyTransforms.ParseAutoAugment(AutoAugment);
        ArgChecks.AtLeast("mask_ratio", MaskRatio, 1);
        ArgChecks.Required("model", Model, "a scale such as yolov8n or a weights file");
        ArgChecks.Required("data", Data, "a data.yaml path or 'shapes'");
        ArgChecks.AtLeast("epochs", Epochs, 1);
        ArgChecks.AtLeast("batch", Batch, 1, "auto-batch is not supported");
        ArgChecks.ImageSize("imgsz", ImgSz);
        if (ImgSz % 32 != 0) throw new ArgumentException($"imgsz={ImgSz} must be a multiple of 32");
        if (Time is double t) ArgChecks.Positive("time", t);
        ArgChecks.AtLeast("patience", Patience, 0);
        ArgChecks.Fraction("fraction", Fraction);
        ArgChecks.AtLeast("nbs", Nbs, 1);
        ArgChecks.AtLeast("workers", Workers, 0);
        ArgChecks.Positive("lr0", Lr0);
        ArgChecks.NonNegative("lrf", Lrf);
        ArgChecks.NonNegative("momentum", Momentum);
        ArgChecks.NonNegative("weight_decay", WeightDecay);
        ArgChecks.NonNegative("warmup_epochs", WarmupEpochs);
        ArgChecks.NonNegative("box", Box);
        ArgChecks.NonNegative("cls", Cls);
        ArgChecks.NonNegative("pose", PoseGain);
        ArgChecks.NonNegative("kobj", Kobj);
        ArgChecks.NonNegative("dfl", Dfl);
        ArgChecks.Iou("iou", Iou);
        ArgChecks.AtLeast("max_det", MaxDet, 1);
        ArgChecks.AtLeast("overfit_batches", OverfitBatches, 0);
        if (MaxSteps is long ms) ArgChecks.AtLeast("max_steps", ms, 1);
        if (Optimizer.ToLowerInvariant() is not ("auto" or "sgd" or "adam" or "adamw"))
            throw new ArgumentException($"optimizer={Optimizer} is not SGD, Adam, AdamW or auto");
        if (Profiler is not null && Profiler.ToLowerInvariant() is not ("simple" or "none" or ""))
            throw new ArgumentException($"profiler={Profiler} is not supported (simple, or leave it out)");
        this.ToAugmentation();
        FrozenLayers();
    }

    /// <summary>True when <c>profiler=simple</c> was asked for.</summary>
    public bool ProfilerSimple => string.Equals(Profiler, "simple", StringComparison.OrdinalIgnoreCase);
}
