using System.Text.RegularExpressions;
using Strix.Models.Architecture;

namespace Strix.Models.Import;

/// <summary>
/// Finds the architecture and scale of weights that come without one (a <c>state_dict()</c> saved from Python, an
/// ONNX graph): YOLOv8 through its scale inference (which also recovers narrow and custom scales), any other
/// built-in family by the head's layer index, the first convolution's width and the first CSP depth, confirmed by
/// building the candidate and comparing every name and shape.
/// </summary>
public static partial class ShapeArchitecture
{
    [GeneratedRegex(@"^model\.(\d+)\.")]
    private static partial Regex LayerIndex();

    /// <summary>True when the tensors are BN-folded (a fused model: convolutions with biases, no batch norms).</summary>
    public static bool IsFused(IReadOnlyDictionary<string, long[]> shapes) =>
        shapes.ContainsKey("model.0.conv.bias") && !shapes.ContainsKey("model.0.bn.weight");

    /// <summary>True when the head sits at YOLOv8's layer 22 and nothing follows it.</summary>
    public static bool IsYoloV8(IReadOnlyDictionary<string, long[]> shapes) =>
        shapes.ContainsKey(YoloV8HeadClasses) && !shapes.Keys.Any(k => k.StartsWith("model.23.", StringComparison.Ordinal));

    const string YoloV8HeadClasses = "model.22.cv3.0.2.weight";

    /// <summary>
    /// The architecture, scale and class count the tensors belong to: YOLOv8 (any scale its inference recovers) or a
    /// built-in family at one of its scales; what was inferred goes into <paramref name="notes"/>.
    /// </summary>
    public static (ModelSpec Spec, YoloScale Scale, int NumClasses) Resolve(IReadOnlyDictionary<string, long[]> shapes, string path, List<string> notes)
    {
        if (IsYoloV8(shapes))
            return (ModelCatalog.YoloV8, UltralyticsImporter.ScaleFromShapes(shapes, null, path, notes), (int)shapes[YoloV8HeadClasses][0]);
        var inferred = Infer(shapes, path);
        notes.Add($"no architecture in the file: its tensors fit {inferred.Spec.ModelName(inferred.Scale)}");
        return inferred;
    }

    /// <summary>The built-in family and scale whose state dict has exactly these names and shapes.</summary>
    public static (ModelSpec Spec, YoloScale Scale, int NumClasses) Infer(IReadOnlyDictionary<string, long[]> shapes, string path)
    {
        var indices = shapes.Keys.Select(k => LayerIndex().Match(k)).Where(m => m.Success).Select(m => int.Parse(m.Groups[1].Value)).ToList();
        if (indices.Count == 0) throw new InvalidDataException($"{path}: no 'model.N.' tensors, so this is not an Ultralytics detection model");
        int head = indices.Max();
        if (!shapes.TryGetValue($"model.{head}.cv3.0.2.weight", out var cls))
            throw new InvalidDataException($"{path}: layer {head} has no detection head (model.{head}.cv3.0.2.weight)");
        int nc = (int)cls[0];
        bool fused = IsFused(shapes);
        long? firstWidth = shapes.TryGetValue("model.0.conv.weight", out var w0) ? w0[0] : null;

        foreach (var (spec, scale) in Candidates(firstWidth))
        {
            if (spec.Layers.Count - 1 != head || !DepthFits(spec, scale, shapes)) continue;
            using var candidate = new DetectionModel(spec, scale, nc);
            if (fused) candidate.Fuse();
            var ours = candidate.state_dict();
            if (ours.Count == shapes.Count && ours.All(kv => shapes.TryGetValue(kv.Key, out var s) && s.SequenceEqual(kv.Value.shape)))
                return (spec, scale, nc);
        }
        throw new InvalidDataException($"{path}: its {shapes.Count} tensors fit no built-in architecture ({string.Join(", ", ModelCatalog.Families)} at any scale); " +
            "import a checkpoint that carries its yaml, or build the model from its YAML and load the weights by name");
    }

    /// <summary>
    /// Every built-in family at each of its scales, in catalog order, leaving out those whose first convolution's
    /// width differs from <paramref name="firstWidth"/> (when known): a cheap filter before a candidate is built.
    /// </summary>
    public static IEnumerable<(ModelSpec Spec, YoloScale Scale)> Candidates(long? firstWidth)
    {
        foreach (var family in ModelCatalog.Families)
        {
            var spec = ModelCatalog.Builtin(family);
            var first = spec.Layers[0];
            foreach (var scale in spec.Scales.Values)
            {
                if (firstWidth is { } fw && first.Module == "Conv" && first.Args[0] is long c && scale.Channels((int)c) != fw) continue;
                yield return (spec, scale);
            }
        }
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
