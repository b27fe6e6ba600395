namespace Strix.Models.Import;

/// <summary>
/// Recovers a YOLOv8 scale (depth, width, max channels) from what the weights show: the repeats of the
/// first two C2f blocks and the output channels of the five downsampling Convs (layers 0, 1, 3, 5, 7,
/// whose base widths are 64…1024). Used when a file does not name its scale.
/// </summary>
public static class ScaleInference
{
    /// <summary>Base output channels of layers 0, 1, 3, 5, 7 (before width scaling).</summary>
    public static readonly int[] BaseChannels = { 64, 128, 256, 512, 1024 };
    /// <summary>Layers whose Conv output channels <see cref="Infer"/> takes.</summary>
    public static readonly int[] ChannelLayers = { 0, 1, 3, 5, 7 };

    static readonly double[] Depths = { 0.33, 0.67, 1.0, 1.33 };
    static readonly int[] MaxChannelChoices = { 1024, 768, 512, 2048, 1280, 640, 384, 256 };

    /// <summary>
    /// The standard scale that reproduces the observed shapes, else a custom one (named <paramref name="name"/>),
    /// or null when no depth/width/max-channels combination does.
    /// </summary>
    /// <param name="repeats2">Bottlenecks in layer 2 (base 3).</param>
    /// <param name="repeats4">Bottlenecks in layer 4 (base 6).</param>
    /// <param name="channels">Output channels of layers 0, 1, 3, 5, 7.</param>
    /// <param name="name">Name given to a custom (non-standard) scale.</param>
    public static YoloScale? Infer(int repeats2, int repeats4, IReadOnlyList<long> channels, string name = "custom")
    {
        if (channels.Count != BaseChannels.Length) throw new ArgumentException("five channel counts expected", nameof(channels));
        foreach (var s in YoloScale.All)
            if (Matches(s, repeats2, repeats4, channels)) return s;
        var depths = Depths.Where(d => new YoloScale("", d, 1, 1024).Repeats(3) == repeats2).ToList();
        foreach (var mc in MaxChannelChoices.Concat(channels.Select(c => (int)c)).Distinct())
            foreach (var w in WidthCandidates(channels, mc))
                foreach (var d in depths)
                {
                    var s = new YoloScale(name, d, w, mc);
                    if (Matches(s, repeats2, repeats4, channels)) return s;
                }
        return null;
    }

    /// <summary>True when <paramref name="s"/> gives these repeats and channels.</summary>
    public static bool Matches(YoloScale s, int repeats2, int repeats4, IReadOnlyList<long> channels) =>
        s.Repeats(3) == repeats2 && s.Repeats(6) == repeats4
        && BaseChannels.Select((b, i) => s.Channels(b) == channels[i]).All(x => x);

    static IEnumerable<double> WidthCandidates(IReadOnlyList<long> channels, int maxChannels)
    {
        // Standard widths first, then each layer's ratio (the widest layer's is the least distorted by rounding up to 8).
        var seen = new HashSet<double>();
        foreach (var w in YoloScale.All.Select(s => s.Width)) if (seen.Add(w)) yield return w;
        for (int i = BaseChannels.Length - 1; i >= 0; i--)
        {
            double w = (double)channels[i] / Math.Min(BaseChannels[i], maxChannels);
            if (w > 0 && seen.Add(w)) yield return w;
        }
    }
}
