namespace Strix.Models;

/// <summary>
/// A model scale (one row of a model file's <c>scales</c>): depth multiplies block repeats, width multiplies
/// channels, and MaxChannels caps the widest layers. <see cref="All"/> holds YOLOv8's five.
/// </summary>
public sealed record YoloScale(string Name, double Depth, double Width, int MaxChannels)
{
    public static readonly YoloScale N = new("n", 0.33, 0.25, 1024);
    public static readonly YoloScale S = new("s", 0.33, 0.50, 1024);
    public static readonly YoloScale M = new("m", 0.67, 0.75, 768);
    public static readonly YoloScale L = new("l", 1.00, 1.00, 512);
    public static readonly YoloScale X = new("x", 1.00, 1.25, 512);

    public static IReadOnlyList<YoloScale> All { get; } = new[] { N, S, M, L, X };

    /// <summary>Channels after width scaling and capping, rounded up to a multiple of 8.</summary>
    public int Channels(int c) => MakeDivisible(Math.Min(c, MaxChannels) * Width, 8);

    /// <summary>Repeats after depth scaling (at least 1).</summary>
    public int Repeats(int n) => n > 1 ? Math.Max((int)Math.Round(n * Depth, MidpointRounding.ToEven), 1) : n;

    static int MakeDivisible(double x, int divisor) => (int)(Math.Ceiling(x / divisor) * divisor);
}
