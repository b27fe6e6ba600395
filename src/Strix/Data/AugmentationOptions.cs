namespace Strix.Data;

/// <summary>
/// Training augmentation hyper-parameters with Ultralytics' meanings and defaults (the command-line
/// arguments that set them are <c>Strix.Config.IAugmentationArgs</c>), so a command line or a yaml
/// written for Ultralytics means the same thing here.
/// </summary>
public sealed record AugmentationOptions
{
    /// <summary><c>mosaic</c>: probability of a 4-image mosaic.</summary>
    public double Mosaic { get; init; } = 1.0;
    /// <summary><c>mixup</c>: probability of blending with a second (mosaic) sample.</summary>
    public double MixUp { get; init; } = 0.0;
    /// <summary><c>degrees</c>: rotation range ±degrees.</summary>
    public double Degrees { get; init; } = 0.0;
    /// <summary><c>translate</c>: translation range ± fraction of the output size.</summary>
    public double Translate { get; init; } = 0.1;
    /// <summary><c>scale</c>: zoom range 1 ± scale.</summary>
    public double Scale { get; init; } = 0.5;
    /// <summary><c>shear</c>: shear range ±degrees.</summary>
    public double Shear { get; init; } = 0.0;
    /// <summary><c>perspective</c>: perspective coefficient range (0–0.001 is sensible).</summary>
    public double Perspective { get; init; } = 0.0;
    /// <summary><c>hsv_h</c>: hue gain (fraction).</summary>
    public double HsvH { get; init; } = 0.015;
    /// <summary><c>hsv_s</c>: saturation gain (fraction).</summary>
    public double HsvS { get; init; } = 0.7;
    /// <summary><c>hsv_v</c>: value (brightness) gain (fraction).</summary>
    public double HsvV { get; init; } = 0.4;
    /// <summary><c>fliplr</c>: probability of a left-right flip.</summary>
    public double FlipLR { get; init; } = 0.5;
    /// <summary><c>flipud</c>: probability of an up-down flip.</summary>
    public double FlipUD { get; init; } = 0.0;
    /// <summary><c>close_mosaic</c>: turn mosaic (and mixup) off for the last N epochs.</summary>
    public int CloseMosaic { get; init; } = 10;

    /// <summary>No augmentation at all (validation, or inspecting raw data).</summary>
    public static AugmentationOptions None { get; } = new()
    {
        Mosaic = 0, MixUp = 0, Translate = 0, Scale = 0, HsvH = 0, HsvS = 0, HsvV = 0, FlipLR = 0, FlipUD = 0, CloseMosaic = 0,
    };

    /// <summary>Throws <see cref="ArgumentException"/> naming the first value out of its range.</summary>
    public void Validate()
    {
        static void P(string k, double v) { if (!(v >= 0 && v <= 1)) throw new ArgumentException($"{k}={v} must be a probability in [0, 1]"); }
        static void NonNeg(string k, double v) { if (!(v >= 0) || double.IsInfinity(v)) throw new ArgumentException($"{k}={v} must be ≥ 0"); }
        P("mosaic", Mosaic); P("mixup", MixUp); P("fliplr", FlipLR); P("flipud", FlipUD);
        P("hsv_h", HsvH); P("hsv_s", HsvS); P("hsv_v", HsvV); P("translate", Translate);
        NonNeg("degrees", Degrees); NonNeg("shear", Shear); NonNeg("perspective", Perspective);
        if (!(Scale >= 0 && Scale < 1)) throw new ArgumentException($"scale={Scale} must be in [0, 1)");
        if (CloseMosaic < 0) throw new ArgumentException($"close_mosaic={CloseMosaic} must be ≥ 0");
    }
}
