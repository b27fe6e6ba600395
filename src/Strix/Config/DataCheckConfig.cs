using Strix.Data;

namespace Strix.Config;

/// <summary>The arguments of <c>strix data check</c>: the dataset, the loader, and the training augmentation to draw.</summary>
public sealed record DataCheckConfig : ConfigRecord, IAugmentationArgs
{
    protected override string Command => "data check";

    [Arg("check", "check the dataset (the sub-command word)")] public bool Check { get; init; }
    [Arg("data", "a data.yaml path or 'shapes'")] public string? Data { get; init; }
    [Arg("imgsz", "image size")] public int ImgSz { get; init; } = 640;
    [Arg("batch", "images in the plotted batch")] public int Batch { get; init; } = 16;
    [Arg("workers", "data loading threads")] public int Workers { get; init; } = DataLoaderOptions.DefaultWorkers;
    [Arg("seed", "random seed of the augmentation")] public int Seed { get; init; }
    [Arg("cache", "cache decoded images: ram, disk or false")] public ImageCacheMode Cache { get; init; } = ImageCacheMode.None;
    [Arg("fraction", "fraction of the training images")] public double Fraction { get; init; } = 1.0;
    [Arg("project", "runs folder")] public string Project { get; init; } = Path.Combine("runs", "data");
    [Arg("name", "run name")] public string Name { get; init; } = "check";
    [Arg("exist_ok", "reuse an existing run folder")] public bool ExistOk { get; init; }
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
    [Arg("close_mosaic", "(accepted as in train; a check draws epoch 0)")] public int CloseMosaic { get; init; } = AugmentationArgs.Defaults.CloseMosaic;

    public override void Validate()
    {
        if (!Check) throw new ArgumentException("usage: strix data check data=path/to/data.yaml|shapes [imgsz=640 batch=16 workers=2 seed=0 project=runs/data name=check]");
        ArgChecks.Required("data", Data, "a data.yaml path or 'shapes'");
        ArgChecks.ImageSize("imgsz", ImgSz);
        ArgChecks.AtLeast("batch", Batch, 1);
        ArgChecks.AtLeast("workers", Workers, 0);
        ArgChecks.Fraction("fraction", Fraction);
        this.ToAugmentation();
    }
}
