using System.Text.RegularExpressions;
using Strix.Models.Architecture;

namespace Strix.Models.Import;

/// <summary>
/// Finds the built-in architecture and scale a bare state dict (no module tree, no yaml: a <c>state_dict()</c>
/// saved from Python) belongs to: the family whose head sits at the last layer index, the scale whose first
/// width and first CSP depth match, confirmed by building it and comparing every name and shape.
/// </summary>
public static partial class ShapeArchitecture
{
    [GeneratedRegex(@"^model\.(\d+)\.")]
    private static partial Regex LayerIndex();

    public static (ModelSpec Spec, YoloScale Scale, int NumClasses) Infer(IReadOnlyDictionary<string, long[]> shapes, string path)
    {
        var indices = shapes.Keys.Select(k => LayerIndex().Match(k)).Where(m => m.Success).Select(m => int.Parse(m.Groups[1].Value)).ToList();
        if (indices.Count == 0) throw new InvalidDataException($"{path}: no 'model.N.' tensors, so this is not an Ultralytics detection model");
        int head = indices.Max();
        if (!shapes.TryGetValue($"model.{head}.cv3.0.2.weight", out var cls))
            throw new InvalidDataException($"{path}: layer {head} has no detection head (model.{head}.cv3.0.2.weight)");
        int nc = (int)cls[0];
        long? firstWidth = shapes.TryGetValue("model.0.conv.weight", out var w0) ? w0[0] : null;

        foreach (var family in ModelCatalog.Families)
        {
            var spec = ModelCatalog.Builtin(family);
            if (spec.Layers.Count - 1 != head) continue;
            foreach (var scale in spec.Scales.Values)
            {
                var first = spec.Layers[0];
                if (firstWidth is { } fw && first.Module == "Conv" && first.Args[0] is long c && scale.Channels((int)c) != fw) continue;
                if (!DepthFits(spec, scale, shapes)) continue;
                using var candidate = new DetectionModel(spec, scale, nc);
                bool fused = shapes.ContainsKey("model.0.conv.bias") && !shapes.ContainsKey("model.0.bn.weight");
                if (fused) candidate.Fuse();
                var ours = candidate.state_dict();
                if (ours.Count == shapes.Count && ours.All(kv => shapes.TryGetValue(kv.Key, out var s) && s.SequenceEqual(kv.Value.shape)))
                    return (spec, scale, nc);
            }
        }
        throw new InvalidDataException($"{path}: its {shapes.Count} tensors fit no built-in architecture ({string.Join(", ", ModelCatalog.Families)} at any scale); " +
            "import a checkpoint that carries its yaml, or build the model from its YAML and load the weights by name");
    }

    /// <summary>The first CSP row's block count (model.N.m.K) equals the scale's repeats for it.</summary>
    static bool DepthFits(ModelSpec spec, YoloScale scale, IReadOnlyDictionary<string, long[]> shapes)
    {
        var row = spec.Layers.FirstOrDefault(l => l.Module is "C2f" or "C3k2" or "C3" or "C2");
        if (row is null) return true;
        var prefix = $"model.{row.Index}.m.";
        int blocks = shapes.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal))
            .Select(k => k[prefix.Length..].Split('.')[0]).Distinct().Count();
        return blocks == scale.Repeats(row.Repeats);
    }
}
