using System.Globalization;
using System.Reflection;
using System.Text.Json;
using Strix.Data;

namespace Strix.Models;

/// <summary>
/// What a weight file says about its model besides the tensors: class names, the scale to rebuild the
/// architecture, training image size, strides, the training arguments, provenance. Stored as the
/// safetensors <c>__metadata__</c> string map (lists and maps as JSON strings), so any safetensors
/// reader sees it.
/// </summary>
public sealed record ModelMetadata
{
    /// <summary>Format marker written into every Strix weight file.</summary>
    public const string FormatName = "strix.detect.v1";
    /// <summary>The format name of training checkpoints, which also hold a model and this metadata.</summary>
    public const string CheckpointFormatName = "strix.checkpoint";

    /// <summary>Class names by class id; their count is the model's number of classes.</summary>
    public required IReadOnlyList<string> Names { get; init; }
    /// <summary>The scale the architecture is built with (name, depth, width, max channels).</summary>
    public required YoloScale Scale { get; init; }
    public int NumClasses => Names.Count;
    /// <summary>The architecture's family name (yolov8, yolo11, a user file's name); null in files older than the YAML builder: YOLOv8.</summary>
    public string? Architecture { get; init; }
    /// <summary>The architecture's model YAML, so the model can be rebuilt from the weight file alone; null: the built-in YOLOv8.</summary>
    public string? ModelYaml { get; init; }
    /// <summary>The (square) image size the model was trained at.</summary>
    public int ImgSz { get; init; } = 640;
    public IReadOnlyList<int> Strides { get; init; } = new[] { 8, 16, 32 };
    public string Task { get; init; } = "detect";
    public string StrixVersion { get; init; } = CurrentStrixVersion;
    /// <summary>ISO-8601 time the file was written (or the source's date for imports).</summary>
    public string Date { get; init; } = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
    /// <summary>True when batch norms are folded into the convolutions (inference-only weights).</summary>
    public bool Fused { get; init; }
    /// <summary>The training arguments (key=value as the CLI takes them).</summary>
    public IReadOnlyDictionary<string, string> TrainArgs { get; init; } = new Dictionary<string, string>();
    /// <summary>Free-form fields (provenance, source versions …), stored as top-level metadata keys.</summary>
    public IReadOnlyDictionary<string, string> Extra { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// The architecture to rebuild: the stored model YAML (read as <paramref name="source"/>'s), or the built-in YOLOv8
    /// for files that predate it.
    /// </summary>
    public Architecture.ModelSpec ArchitectureSpec(string source)
    {
        if (ModelYaml is null) return Models.Architecture.ModelCatalog.YoloV8;
        var family = Architecture ?? "custom";
        if (Models.Architecture.ModelCatalog.Families.Contains(family))
        {
            var builtin = Models.Architecture.ModelCatalog.Builtin(family);
            if (builtin.Text == ModelYaml) return builtin;
        }
        return Models.Architecture.ModelYaml.Parse(ModelYaml, $"{source} (model_yaml)", family).Spec;
    }

    /// <summary>The running Strix version (informational version without the commit suffix).</summary>
    public static string CurrentStrixVersion { get; } = ReadVersion();

    /// <summary>Metadata for <paramref name="model"/>: its scale, fusion state and class names (default names when null).</summary>
    public static ModelMetadata For(DetectionModel model, IReadOnlyList<string>? names = null, int imgsz = 640)
    {
        names ??= DefaultNames(model.NumClasses);
        if (names.Count != model.NumClasses)
            throw new ArgumentException($"{names.Count} class names given for a model with {model.NumClasses} classes");
        return new ModelMetadata
        {
            Names = names.ToArray(),
            Task = model.Task,
            Scale = model.Scale,
            Architecture = model.Spec.Name,
            ModelYaml = model.Spec.Text,
            ImgSz = imgsz,
            Strides = model.Strides.Select(s => (int)s).ToArray(),
            Fused = model.IsFused,
        };
    }

    /// <summary>COCO's 80 names for 80-class models, otherwise "class0", "class1", ….</summary>
    public static IReadOnlyList<string> DefaultNames(int nc) =>
        nc == CocoNames.All.Count ? CocoNames.All : Enumerable.Range(0, nc).Select(i => $"class{i}").ToArray();

    static readonly string[] Reserved =
        { "format", "strix_version", "date", "task", "scale", "depth", "width", "max_channels", "nc", "names", "imgsz", "stride", "fused", "train_args", "architecture", "model_yaml" };

    /// <summary>The string map stored in a safetensors header.</summary>
    public Dictionary<string, string> ToDictionary()
    {
        var inv = CultureInfo.InvariantCulture;
        var d = new Dictionary<string, string>
        {
            ["format"] = FormatName,
            ["strix_version"] = StrixVersion,
            ["date"] = Date,
            ["task"] = Task,
            ["scale"] = Scale.Name,
            ["depth"] = Scale.Depth.ToString("R", inv),
            ["width"] = Scale.Width.ToString("R", inv),
            ["max_channels"] = Scale.MaxChannels.ToString(inv),
            ["nc"] = NumClasses.ToString(inv),
            ["names"] = JsonSerializer.Serialize(Names),
            ["imgsz"] = ImgSz.ToString(inv),
            ["stride"] = JsonSerializer.Serialize(Strides),
            ["fused"] = Fused ? "true" : "false",
            ["train_args"] = JsonSerializer.Serialize(TrainArgs),
        };
        if (Architecture is not null) d["architecture"] = Architecture;
        if (ModelYaml is not null) d["model_yaml"] = ModelYaml;
        foreach (var (k, v) in Extra)
        {
            if (Reserved.Contains(k)) throw new ArgumentException($"extra metadata key '{k}' collides with a reserved key");
            d[k] = v;
        }
        return d;
    }

    /// <summary>Parses the map <see cref="ToDictionary"/> writes; <paramref name="source"/> names the file in errors.</summary>
    public static ModelMetadata FromDictionary(IReadOnlyDictionary<string, string> d, string source)
    {
        var inv = CultureInfo.InvariantCulture;
        string Get(string key) => d.TryGetValue(key, out var v) ? v
            : throw new InvalidDataException($"{source}: metadata key '{key}' is missing (not a Strix weight file?)");
        T Parse<T>(string key, Func<string, T> parse)
        {
            var raw = Get(key);
            try { return parse(raw); }
            catch (Exception e) when (e is FormatException or OverflowException or JsonException)
            {
                throw new InvalidDataException($"{source}: metadata '{key}' has an invalid value '{raw}'", e);
            }
        }
        // Training checkpoints (best/last) carry the same model metadata beside their training state.
        if (d.TryGetValue("format", out var fmt) && fmt != FormatName && fmt != CheckpointFormatName)
            throw new InvalidDataException($"{source}: metadata format '{fmt}' is not '{FormatName}'");
        var names = Parse("names", s => JsonSerializer.Deserialize<string[]>(s) ?? throw new FormatException("null"));
        int nc = Parse("nc", s => int.Parse(s, inv));
        if (names.Length != nc) throw new InvalidDataException($"{source}: metadata lists {names.Length} names for nc={nc}");
        var scale = new YoloScale(Get("scale"), Parse("depth", s => double.Parse(s, inv)),
                                  Parse("width", s => double.Parse(s, inv)), Parse("max_channels", s => int.Parse(s, inv)));
        // The model is built from these numbers before any weight is read: bound them, so a damaged or crafted file
        // cannot make libtorch allocate what it merely claims (the largest real scale is depth 1.0, width 1.25, 512 channels).
        void Within(string key, double value, double min, double max)
        {
            if (!(value >= min && value <= max)) throw new InvalidDataException($"{source}: metadata '{key}' = {value.ToString(inv)} is outside {min.ToString(inv)}–{max.ToString(inv)}");
        }
        Within("nc", nc, 1, 100_000);
        Within("depth", scale.Depth, 0.01, 4);
        Within("width", scale.Width, 0.01, 4);
        Within("max_channels", scale.MaxChannels, 8, 8192);
        return new ModelMetadata
        {
            Names = names,
            Scale = YoloScale.All.FirstOrDefault(s => s == scale) ?? scale,
            ImgSz = d.ContainsKey("imgsz") ? Parse("imgsz", s => int.Parse(s, inv)) : 640,
            Strides = d.ContainsKey("stride") ? Parse("stride", s => JsonSerializer.Deserialize<int[]>(s)!) : new[] { 8, 16, 32 },
            Task = d.GetValueOrDefault("task", "detect"),
            Architecture = d.GetValueOrDefault("architecture"),
            ModelYaml = d.GetValueOrDefault("model_yaml"),
            StrixVersion = d.GetValueOrDefault("strix_version", "unknown"),
            Date = d.GetValueOrDefault("date", ""),
            Fused = d.TryGetValue("fused", out var f) && f == "true",
            TrainArgs = d.ContainsKey("train_args")
                ? Parse("train_args", s => JsonSerializer.Deserialize<Dictionary<string, string>>(s) ?? new())
                : new Dictionary<string, string>(),
            Extra = d.Where(kv => !Reserved.Contains(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value),
        };
    }

    static string ReadVersion()
    {
        var asm = typeof(ModelMetadata).Assembly;
        var info = asm.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        if (string.IsNullOrEmpty(info)) return asm.GetName().Version?.ToString() ?? "0.0.0";
        int plus = info.IndexOf('+');
        return plus < 0 ? info : info[..plus];
    }

    /// <summary>Value equality including the list and map contents (records compare collections by reference).</summary>
    public bool Equals(ModelMetadata? o) =>
        o is not null && Names.SequenceEqual(o.Names) && Scale == o.Scale && ImgSz == o.ImgSz && Strides.SequenceEqual(o.Strides)
        && Task == o.Task && Architecture == o.Architecture && ModelYaml == o.ModelYaml && StrixVersion == o.StrixVersion && Date == o.Date && Fused == o.Fused
        && SameMap(TrainArgs, o.TrainArgs) && SameMap(Extra, o.Extra);

    public override int GetHashCode() => HashCode.Combine(Scale, NumClasses, ImgSz, Task, Date, Fused);

    static bool SameMap(IReadOnlyDictionary<string, string> a, IReadOnlyDictionary<string, string> b) =>
        a.Count == b.Count && a.All(kv => b.TryGetValue(kv.Key, out var v) && v == kv.Value);
}
