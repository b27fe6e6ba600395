using System.Globalization;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Strix.Models.Architecture;

/// <summary>
/// Reads Ultralytics' model YAML schema into a <see cref="ModelSpec"/>: <c>nc</c>, <c>scales</c>
/// (<c>n: [depth, width, max_channels]</c> …) or the older <c>depth_multiple</c>/<c>width_multiple</c>,
/// an optional <c>scale</c> and <c>ch</c>, and the <c>backbone</c> then <c>head</c> rows
/// <c>[from, repeats, module, args]</c>. Every error names the file and line.
/// </summary>
public static partial class ModelYaml
{
    /// <summary>Bounds a file may not exceed, so a damaged or hostile file cannot make libtorch allocate what it claims.</summary>
    public const int MaxLayers = 512, MaxRepeats = 64;

    [GeneratedRegex(@"yolo(?:e-)?v?\d+([nslmx])", RegexOptions.IgnoreCase)]
    private static partial Regex ScaleInName();
    [GeneratedRegex(@"(\d+)([nslmx])(.+)?$", RegexOptions.IgnoreCase)]
    private static partial Regex ScaleLetter();

    /// <summary>Reads a model file; its name gives the family (<c>yolo11s.yaml</c> → yolo11) and may give the scale (s).</summary>
    public static (ModelSpec Spec, string? Scale) Load(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"{path}: cannot read the model file ({e.Message})", e);
        }
        return Parse(text, path, Path.GetFileNameWithoutExtension(path));
    }

    /// <summary>
    /// The scale letter a file or model name carries (<c>yolo11s</c> → s, <c>yolov8n-p2</c> → n) and the family
    /// name without it (yolo11, yolov8-p2); null scale when the name has none.
    /// </summary>
    public static (string Family, string? Scale) SplitName(string stem)
    {
        var m = ScaleInName().Match(stem);
        if (!m.Success) return (stem, null);
        return (ScaleLetter().Replace(stem, "$1$3", 1), m.Groups[1].Value.ToLowerInvariant());
    }

    /// <summary>Parses model YAML text; <paramref name="source"/> names it in errors, <paramref name="stem"/> is its file name.</summary>
    public static (ModelSpec Spec, string? Scale) Parse(string text, string source, string stem)
    {
        YamlMappingNode root;
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            root = stream.Documents.Count > 0 && stream.Documents[0].RootNode is YamlMappingNode m ? m
                : throw new InvalidDataException($"{source}: not a model file (expected a YAML mapping with backbone and head)");
        }
        catch (YamlException e)
        {
            throw new InvalidDataException($"{source}:{e.Start.Line}: invalid YAML ({e.Message})", e);
        }
        catch (InvalidOperationException e) // YamlDotNet's parser state errors for some malformed flow collections
        {
            throw new InvalidDataException($"{source}: invalid YAML ({e.Message})", e);
        }

        YamlNode? Get(string key) => root.Children.TryGetValue(new YamlScalarNode(key), out var v) ? v : null;
        string At(YamlNode n) => $"{source}:{n.Start.Line}";

        int nc = 80;
        if (Get("nc") is { } ncNode)
        {
            nc = Value(ncNode, source) is long l and >= 1 and <= 100_000 ? (int)l
                : throw new InvalidDataException($"{At(ncNode)}: nc must be a class count from 1 to 100000");
        }
        int ch = 3;
        if (Get("ch") is { } chNode)
        {
            ch = Value(chNode, source) is long l and >= 1 and <= 64 ? (int)l
                : throw new InvalidDataException($"{At(chNode)}: ch must be an input channel count from 1 to 64");
        }
        if (Get("activation") is { } act) throw new InvalidDataException($"{At(act)}: 'activation' is not supported by Strix's models yet");
        int[]? kptShape = null;
        if (Get("kpt_shape") is { } kNode)
        {
            kptShape = Value(kNode, source) is List<object?> { Count: 2 } kl && kl[0] is long k and >= 1 and <= 1000 && kl[1] is long d and (2 or 3)
                ? new[] { (int)k, (int)d }
                : throw new InvalidDataException($"{At(kNode)}: kpt_shape must be [keypoints, 2 or 3] with 1 to 1000 keypoints");
        }

        var scales = ReadScales(root, Get("scales"), Get("depth_multiple"), Get("width_multiple"), source);
        string? fileScale = null;
        if (Get("scale") is { } scaleNode)
        {
            fileScale = Value(scaleNode, source) as string
                ?? throw new InvalidDataException($"{At(scaleNode)}: scale must be a scale name such as n or s");
            if (!scales.ContainsKey(fileScale)) throw new InvalidDataException($"{At(scaleNode)}: scale '{fileScale}' is not among the file's scales ({string.Join(", ", scales.Keys)})");
        }
        var (family, nameScale) = SplitName(stem);
        if (nameScale is not null && !scales.ContainsKey(nameScale)) { family = stem; nameScale = null; }

        var layers = new List<LayerSpec>();
        foreach (var section in new[] { "backbone", "head" })
        {
            var node = Get(section) ?? throw new InvalidDataException($"{source}: the model file has no '{section}' section");
            if (node is not YamlSequenceNode rows) throw new InvalidDataException($"{At(node)}: '{section}' must be a list of [from, repeats, module, args] rows");
            foreach (var row in rows)
            {
                if (layers.Count >= MaxLayers) throw new InvalidDataException($"{At(row)}: more than {MaxLayers} layers");
                layers.Add(ReadRow(row, layers.Count, section, source));
            }
        }
        if (layers.Count == 0) throw new InvalidDataException($"{source}: the model file has no layers");
        var spec = new ModelSpec(family, nc, scales, fileScale, ch, layers, source, text) { KptShape = kptShape };
        return (spec, nameScale ?? fileScale);
    }

    static Dictionary<string, YoloScale> ReadScales(YamlMappingNode root, YamlNode? scalesNode, YamlNode? depthNode, YamlNode? widthNode, string source)
    {
        var scales = new Dictionary<string, YoloScale>();
        if (scalesNode is null)
        {
            // Older files (YOLOv5 style) give one depth and width multiple and no channel cap.
            double depth = depthNode is null ? 1.0 : Number(depthNode, source, "depth_multiple");
            double width = widthNode is null ? 1.0 : Number(widthNode, source, "width_multiple");
            scales[""] = Checked(new YoloScale("", depth, width, int.MaxValue), scalesNode ?? root, source);
            return scales;
        }
        if (scalesNode is not YamlMappingNode map || map.Children.Count == 0)
            throw new InvalidDataException($"{source}:{scalesNode.Start.Line}: scales must map names to [depth, width, max_channels]");
        foreach (var (k, v) in map.Children)
        {
            var name = (k as YamlScalarNode)?.Value ?? throw new InvalidDataException($"{source}:{k.Start.Line}: a scale name must be text");
            if (Value(v, source) is not List<object?> { Count: 3 } l || ToDouble(l[0]) is not { } d || ToDouble(l[1]) is not { } w || l[2] is not long c)
                throw new InvalidDataException($"{source}:{v.Start.Line}: scale '{name}' must be [depth, width, max_channels]");
            scales[name] = Checked(new YoloScale(name, d, w, (int)Math.Min(c, int.MaxValue)), v, source);
        }
        return scales;
    }

    static YoloScale Checked(YoloScale s, YamlNode at, string source)
    {
        if (!(s.Depth > 0 && s.Depth <= 4) || !(s.Width > 0 && s.Width <= 4) || s.MaxChannels < 8)
            throw new InvalidDataException($"{source}:{at.Start.Line}: scale '{s.Name}' needs 0 < depth, width ≤ 4 and max_channels ≥ 8");
        return s;
    }

    static LayerSpec ReadRow(YamlNode row, int index, string section, string source)
    {
        string at = $"{source}:{row.Start.Line}: {section} layer {index}";
        if (row is not YamlSequenceNode seq || seq.Children.Count != 4)
            throw new InvalidDataException($"{at}: expected [from, repeats, module, args]");
        int[] from = Value(seq[0], source) switch
        {
            long f => new[] { (int)f },
            List<object?> fs when fs.Count > 0 && fs.All(f => f is long) => fs.Select(f => (int)(long)f!).ToArray(),
            _ => throw new InvalidDataException($"{at}: 'from' must be a layer index or a list of them"),
        };
        foreach (var f in from)
        {
            int abs = f == -1 ? index - 1 : f < 0 ? index + f : f;
            if (abs >= index || (abs < 0 && !(f == -1 && index == 0)))
                throw new InvalidDataException($"{at}: 'from' {f} does not name an earlier layer");
        }
        int repeats = Value(seq[1], source) is long r and >= 1 and <= MaxRepeats ? (int)r
            : throw new InvalidDataException($"{at}: repeats must be a count from 1 to {MaxRepeats}");
        var module = Value(seq[2], source) as string ?? throw new InvalidDataException($"{at}: the module must be a name");
        foreach (var prefix in new[] { "torch.nn.", "nn." })
            if (module.StartsWith(prefix, StringComparison.Ordinal)) module = module[prefix.Length..];
        var args = Value(seq[3], source) as List<object?> ?? throw new InvalidDataException($"{at}: args must be a list");
        return new LayerSpec(index, from, repeats, module, args, (int)row.Start.Line);
    }

    static double Number(YamlNode n, string source, string key) =>
        ToDouble(Value(n, source)) ?? throw new InvalidDataException($"{source}:{n.Start.Line}: {key} must be a number");

    static double? ToDouble(object? v) => v switch { long l => l, double d => d, _ => null };

    /// <summary>A YAML value as long, double, bool (true/True), null (null/None/~), string or list.</summary>
    internal static object? Value(YamlNode node, string source)
    {
        switch (node)
        {
            case YamlSequenceNode s:
                return s.Children.Select(c => Value(c, source)).ToList();
            case YamlScalarNode sc:
            {
                var t = sc.Value ?? "";
                if (sc.Style is ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted) return t;
                if (t is "None" or "null" or "~" or "") return null;
                if (t is "True" or "true") return true;
                if (t is "False" or "false") return false;
                if (long.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l)) return l;
                if (double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)) return d;
                return t;
            }
            default:
                throw new InvalidDataException($"{source}:{node.Start.Line}: a mapping is not allowed here");
        }
    }
}
