using System.Globalization;

namespace Strix.Config;

/// <summary>
/// The range rules every command applies to the arguments they share, so <c>imgsz=0</c> or <c>conf=2</c>
/// gets the same one-line answer from train, val, predict, export and info: the argument, its value, the rule.
/// </summary>
public static class ArgChecks
{
    /// <summary>Largest image side accepted (beyond it tensors of one image exceed what a run can hold).</summary>
    public const int MaxImageSize = 16384;

    static string F(double v) => v.ToString(CultureInfo.InvariantCulture);

    /// <summary><c>imgsz</c>: at least 32 and at most <see cref="MaxImageSize"/> pixels.</summary>
    public static void ImageSize(string name, int value)
    {
        if (value < 32 || value > MaxImageSize) throw new ArgumentException($"{name}={value} must be between 32 and {MaxImageSize} pixels");
    }

    /// <summary>A confidence threshold in [0, 1].</summary>
    public static void Confidence(string name, double value)
    {
        if (!(value >= 0 && value <= 1)) throw new ArgumentException($"{name}={F(value)} must be in [0, 1]");
    }

    /// <summary>A probability in [0, 1].</summary>
    public static void Probability(string name, double value) => Confidence(name, value);

    /// <summary>An IoU threshold in (0, 1].</summary>
    public static void Iou(string name, double value)
    {
        if (!(value > 0 && value <= 1)) throw new ArgumentException($"{name}={F(value)} must be in (0, 1]");
    }

    /// <summary>A fraction in (0, 1].</summary>
    public static void Fraction(string name, double value)
    {
        if (!(value > 0 && value <= 1)) throw new ArgumentException($"{name}={F(value)} must be in (0, 1]");
    }

    /// <summary>An integer ≥ <paramref name="min"/>.</summary>
    public static void AtLeast(string name, long value, long min, string? why = null)
    {
        if (value < min) throw new ArgumentException($"{name}={value} must be ≥ {min}{(why is null ? "" : $" ({why})")}");
    }

    /// <summary>A finite number &gt; 0.</summary>
    public static void Positive(string name, double value)
    {
        if (!(value > 0) || double.IsInfinity(value)) throw new ArgumentException($"{name}={F(value)} must be > 0");
    }

    /// <summary>A finite number ≥ 0.</summary>
    public static void NonNegative(string name, double value)
    {
        if (!(value >= 0) || double.IsInfinity(value)) throw new ArgumentException($"{name}={F(value)} must be ≥ 0");
    }

    /// <summary>A required argument that was not given.</summary>
    public static void Required(string name, string? value, string hint)
    {
        if (string.IsNullOrWhiteSpace(value)) throw new ArgumentException($"missing argument '{name}=…' ({hint})");
    }

    /// <summary>
    /// Ultralytics' <c>check_imgsz</c> for inference-side commands: a size that is not a multiple of the
    /// model's largest stride is rounded up to one, with a warning.
    /// </summary>
    public static int RoundToStride(int imgsz, int stride, Action<string>? warn, string name = "imgsz")
    {
        ImageSize(name, imgsz);
        if (imgsz % stride == 0) return imgsz;
        int fixedSize = (imgsz + stride - 1) / stride * stride;
        warn?.Invoke($"WARNING ⚠️ {name}={imgsz} must be a multiple of max stride {stride}, updating to {fixedSize}");
        return fixedSize;
    }
}
