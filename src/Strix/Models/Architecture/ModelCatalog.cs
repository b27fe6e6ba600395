using System.Collections.Concurrent;

namespace Strix.Models.Architecture;

/// <summary>
/// Strix's built-in architectures (YAML files of our own shipped inside the library) and the resolution of a
/// <c>model=</c> name: <c>yolo11n</c>, <c>yolov8s.yaml</c>, <c>yolov8n-p2</c> pick a built-in family at a scale;
/// a path to an existing <c>.yaml</c> file reads that file.
/// </summary>
public static class ModelCatalog
{
    /// <summary>The built-in families, in the order the README lists them.</summary>
    public static IReadOnlyList<string> Families { get; } = new[] { "yolov8", "yolo11", "yolov8-p2", "yolov8-p6", "yolov8-seg", "yolo11-seg", "yolov8-cls", "yolo11-cls", "yolov8-pose", "yolo11-pose", "yolov8-obb", "yolo11-obb" };

    static readonly ConcurrentDictionary<string, ModelSpec> Cache = new();

    /// <summary>YOLOv8 (P3–P5), the default family.</summary>
    public static ModelSpec YoloV8 => Builtin("yolov8");
    /// <summary>YOLO11 (P3–P5).</summary>
    public static ModelSpec Yolo11 => Builtin("yolo11");

    /// <summary>A built-in family by name (yolov8, yolo11, yolov8-p2, yolov8-p6, yolov8-seg, yolo11-seg, yolov8-cls, yolo11-cls, yolov8-pose, yolo11-pose, yolov8-obb, yolo11-obb).</summary>
    public static ModelSpec Builtin(string family) => Cache.GetOrAdd(family.ToLowerInvariant(), f =>
    {
        if (!Families.Contains(f)) throw new ArgumentException($"no built-in model family '{family}' (built in: {string.Join(", ", Families)})");
        using var stream = typeof(ModelCatalog).Assembly.GetManifestResourceStream($"Strix.Models.{f}.yaml")
            ?? throw new InvalidOperationException($"the built-in model file {f}.yaml is missing from the Strix assembly");
        using var reader = new StreamReader(stream);
        return ModelYaml.Parse(reader.ReadToEnd(), $"{f}.yaml (built in)", f).Spec;
    });

    /// <summary>
    /// A built-in family and scale named by <paramref name="name"/> (<c>yolo11n</c>, <c>yolov8s.yaml</c>,
    /// <c>yolov8m-p2</c>, or a bare scale letter meaning YOLOv8), or false when it names none.
    /// </summary>
    public static bool TryResolve(string name, out ModelSpec spec, out YoloScale scale)
    {
        spec = null!; scale = null!;
        var trimmed = name.Trim();
        var ext = Path.GetExtension(trimmed).ToLowerInvariant();
        if (ext is not ("" or ".yaml" or ".yml")) return false;
        var stem = Path.GetFileNameWithoutExtension(trimmed).ToLowerInvariant();
        if (stem is "n" or "s" or "m" or "l" or "x") stem = "yolov8" + stem;
        var (family, letter) = ModelYaml.SplitName(stem);
        if (letter is null || !Families.Contains(family)) return false;
        spec = Builtin(family);
        scale = spec.ScaleFor(letter);
        return true;
    }

    /// <summary>
    /// True when <paramref name="name"/> names an architecture to build (a built-in name or a model .yaml file)
    /// rather than weights to load.
    /// </summary>
    public static bool NamesArchitecture(string name) =>
        Path.GetExtension(name.Trim()).ToLowerInvariant() is ".yaml" or ".yml" || IsBuiltinName(name);

    /// <summary>True when <paramref name="name"/> names a built-in model rather than a file.</summary>
    public static bool IsBuiltinName(string name) => TryResolve(name, out _, out _);

    /// <summary>
    /// The architecture a <c>model=</c> argument names: an existing <c>.yaml</c>/<c>.yml</c> file is read (its scale
    /// from its name or <c>scale:</c> key, else its first scale), otherwise a built-in name; null when neither.
    /// </summary>
    public static (ModelSpec Spec, YoloScale Scale)? Resolve(string name)
    {
        var ext = Path.GetExtension(name).ToLowerInvariant();
        if (ext is ".yaml" or ".yml" && File.Exists(name))
        {
            var (spec, letter) = ModelYaml.Load(name);
            return (spec, spec.ScaleFor(letter));
        }
        return TryResolve(name, out var s, out var sc) ? (s, sc) : null;
    }
}
