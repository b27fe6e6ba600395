using Strix.Data;

namespace Strix.Config;

/// <summary>The augmentation arguments (<c>hsv_h</c> … <c>close_mosaic</c>) of commands that build training batches.</summary>
public interface IAugmentationArgs
{
    double HsvH { get; }
    double HsvS { get; }
    double HsvV { get; }
    double Degrees { get; }
    double Translate { get; }
    double Scale { get; }
    double Shear { get; }
    double Perspective { get; }
    double FlipUD { get; }
    double FlipLR { get; }
    double Mosaic { get; }
    double MixUp { get; }
    int CloseMosaic { get; }
}

public static class AugmentationArgs
{
    /// <summary>The defaults live in <see cref="AugmentationOptions"/>; config records read them from here.</summary>
    public static AugmentationOptions Defaults { get; } = new();

    /// <summary>The data pipeline's options for these arguments, range-checked.</summary>
    public static AugmentationOptions ToAugmentation(this IAugmentationArgs a)
    {
        var o = new AugmentationOptions
        {
            HsvH = a.HsvH, HsvS = a.HsvS, HsvV = a.HsvV, Degrees = a.Degrees, Translate = a.Translate, Scale = a.Scale,
            Shear = a.Shear, Perspective = a.Perspective, FlipUD = a.FlipUD, FlipLR = a.FlipLR, Mosaic = a.Mosaic, MixUp = a.MixUp,
            CloseMosaic = a.CloseMosaic,
        };
        o.Validate();
        return o;
    }
}
