namespace Strix.Models;

/// <summary>
/// A YOLOv8 model scale: depth multiplies block repeats, width multiplies channels, and
/// MaxChannels caps the widest layers (the table from YOLOv8's model definition).
/// </summary>
public sealed record YoloScale(string Name, double Depth, double Width, int MaxChannels)
{
    public static readonly YoloScale N = new("n", 0.33, 0.25, 1024);
    public static readonly YoloScale S = new("s", 0.33, 0.50, 1024);
    public static readonly YoloScale M = new("m", 0.67, 0.75, 768);
    public static readonly YoloScale L = new("l", 1.00, 1.00, 512);
    public static readonly YoloScale X = new("x", 1.00, 1.25, 512);

    public static IReadOnlyList<YoloScale> All { get; } = new[] { N, S, M, L, X };

    /// <summary>Parses "n", "yolov8n", "yolov8n.yaml" (case-insensitive).</summary>
    public static YoloScale Parse(string name)
    {
        var s = Path.GetFileNameWithoutExtension(name.Trim()).ToLowerInvariant();
        if (s.StartsWith("yolov8")) s = s[6..];
        return All.FirstOrDefault(x => x.Name == s)
            ?? throw new ArgumentException($"unknown model scale '{name}' (expected yolov8n, yolov8s, yolov8m, yolov8l or yolov8x)");
    }

    /// <summary>True when <paramref name="name"/> names a scale rather than a weights file.</summary>
    public static bool IsScaleName(string name)
    {
        var s = Path.GetFileNameWithoutExtension(name.Trim()).ToLowerInvariant();
        if (Path.GetExtension(name) is { Length: > 0 } ext && ext.ToLowerInvariant() != ".yaml") return false;
        if (s.StartsWith("yolov8")) s = s[6..];
        return All.Any(x => x.Name == s);
    }

    /// <summary>Channels after width scaling and capping, rounded up to a multiple of 8.</summary>
    public int Channels(int c) => MakeDivisible(Math.Min(c, MaxChannels) * Width, 8);

    /// <summary>Repeats after depth scaling (at least 1).</summary>
    public int Repeats(int n) => n > 1 ? Math.Max((int)Math.Round(n * Depth, MidpointRounding.ToEven), 1) : n;

    public string ModelName => "yolov8" + Name;

    static int MakeDivisible(double x, int divisor) => (int)(Math.Ceiling(x / divisor) * divisor);
}
