namespace Strix.Models.Architecture;

/// <summary>
/// One row of a model file: <c>[from, repeats, module, args]</c>. <see cref="From"/> is as written (−1 is the
/// previous layer, other negatives count back from this row, non-negatives are absolute layer indices);
/// <see cref="Args"/> holds YAML values as long, double, bool, string, null or nested lists.
/// </summary>
public sealed record LayerSpec(int Index, int[] From, int Repeats, string Module, IReadOnlyList<object?> Args, int Line)
{
    /// <summary>Absolute index of each input; −1 means the previous layer (or the image for row 0).</summary>
    public int[] ResolvedFrom => From.Select(f => f == -1 ? -1 : f < 0 ? Index + f : f).ToArray();
}

/// <summary>
/// An architecture read from Ultralytics' model YAML schema: class count, compound scales (depth, width,
/// max channels), and the backbone and head rows in order. <see cref="Text"/> is the file itself, which
/// Strix stores in its weight files so any architecture can be rebuilt from the weights alone.
/// </summary>
public sealed record ModelSpec(
    string Name,
    int NumClasses,
    IReadOnlyDictionary<string, YoloScale> Scales,
    string? DefaultScale,
    int InputChannels,
    IReadOnlyList<LayerSpec> Layers,
    string Source,
    string Text)
{
    /// <summary>
    /// The scale to build: <paramref name="name"/> when given (it must be one of <see cref="Scales"/>), else the
    /// file's <c>scale:</c> key, else the first scale listed (as Ultralytics does); a file without
    /// <c>scales</c> has one implicit scale from its depth/width multiples.
    /// </summary>
    public YoloScale ScaleFor(string? name)
    {
        name ??= DefaultScale;
        if (name is null) return Scales.Values.First();
        return Scales.TryGetValue(name, out var s) ? s
            : throw new ArgumentException($"{Source}: no scale '{name}' (the file lists {string.Join(", ", Scales.Keys)})");
    }

    /// <summary>
    /// The model's name at a scale, the way Ultralytics names files: the scale letter follows the family's
    /// version (<c>yolo11</c> + n → <c>yolo11n</c>, <c>yolov8-p2</c> + s → <c>yolov8s-p2</c>).
    /// </summary>
    public string ModelName(YoloScale scale)
    {
        var m = System.Text.RegularExpressions.Regex.Match(Name, @"^(yolo(?:v)?\d+)(.*)$", System.Text.RegularExpressions.RegexOptions.IgnoreCase);
        return !m.Success ? Name : m.Groups[1].Value + scale.Name + m.Groups[2].Value;
    }

    /// <summary>The name Ultralytics prints (<c>YOLOv8n</c>, <c>YOLO11n</c>).</summary>
    public string DisplayName(YoloScale scale) => ModelName(scale).Replace("yolo", "YOLO");

    /// <summary>The file's <c>kpt_shape</c> [keypoints, values per keypoint] for a Pose head; null when it has none.</summary>
    public int[]? KptShape { get; init; }

    /// <summary>
    /// The same architecture for another keypoint shape: <see cref="KptShape"/> and the file's <c>kpt_shape:</c> line
    /// (replaced, or added after <c>nc:</c>), so weights saved from the model rebuild with the new shape.
    /// </summary>
    public ModelSpec WithKptShape(int[] kptShape)
    {
        var line = $"kpt_shape: [{string.Join(", ", kptShape)}]";
        var lines = Text.Split('\n').ToList();
        int at = lines.FindIndex(l => l.TrimStart().StartsWith("kpt_shape:", StringComparison.Ordinal) && !l.StartsWith(' '));
        if (at >= 0) lines[at] = line;
        else
        {
            int nc = lines.FindIndex(l => l.StartsWith("nc:", StringComparison.Ordinal));
            lines.Insert(nc + 1, line);
        }
        return this with { KptShape = (int[])kptShape.Clone(), Text = string.Join('\n', lines) };
    }

    /// <summary>True when the file uses YOLO11 modules, so the head takes YOLO11's layout (Ultralytics' rule).</summary>
    public bool HasModernHead => Layers.Any(l => l.Module == "C3k2");
}
