using System.Globalization;
using System.Text.RegularExpressions;
using Strix.Models.Architecture;
using Strix.Models.Import.Pickle;
using static TorchSharp.torch;

namespace Strix.Models.Import;

/// <summary>
/// Imports Ultralytics YOLOv8 detection checkpoints (<c>.pt</c>): a <c>torch.save</c> zip whose pickle is a dict
/// with <c>model</c>/<c>ema</c> entries holding pickled module trees with fp16 tensors. The pickle is read by the
/// <see cref="RestrictedUnpickler"/> (nothing in the file is executed); the module tree is walked into
/// Ultralytics' state-dict names (<c>model.N.cv1.conv.weight</c> …), which are ours too. The scale and class
/// count come from the model's <c>yaml</c> and the head's shapes, the class names from <c>names</c>.
/// </summary>
public static partial class UltralyticsImporter
{
    /// <summary>YOLOv8's layer types in order (class names as Ultralytics' module tree has them).</summary>
    static readonly string[] YoloV8Layers =
    {
        "Conv", "Conv", "C2f", "Conv", "C2f", "Conv", "C2f", "Conv", "C2f", "SPPF",
        "Upsample", "Concat", "C2f", "Upsample", "Concat", "C2f", "Conv", "Concat", "C2f", "Conv", "Concat", "C2f", "Detect",
    };

    /// <summary>Reads <paramref name="path"/> and builds the equivalent <see cref="DetectionModel"/> (in eval mode, fp32).</summary>
    public static ImportedModel Load(string path)
    {
        using var ckpt = TorchCheckpoint.Open(path);
        var notes = new List<string>();
        var (module, stateDict, which) = SelectModel(ckpt.Root, path);
        if (module is not null) CheckTask(module, path);
        var yaml = module?.Attribute("yaml") as PickleDict;
        // A module tree built from a non-YOLOv8 file (YOLO11, a variant, a user's YAML) is rebuilt from its yaml;
        // YOLOv8 keeps the path that also infers narrow or custom scales from the tensor shapes.
        var pickled = PickledArchitecture.Read(yaml, path);
        var architecture = pickled is { } pa && pa.Spec != ModelCatalog.YoloV8 ? pickled : null;
        if (module is not null)
        {
            if (architecture is { } arch) CheckLayers(module, arch.Spec, path);
            else CheckArchitecture(module, path);
        }
        Dictionary<string, TorchTensorRef> refs;
        try { refs = module is not null ? ModuleStateDict(module) : stateDict!; }
        catch (InvalidDataException e) { throw new InvalidDataException($"{path}: {e.Message}", e); }
        if (refs.Count == 0) throw new InvalidDataException($"{path}: the '{which}' entry holds no tensors");

        var shapes = refs.ToDictionary(kv => kv.Key, kv => kv.Value.Size);
        // A state dict alone (no module tree): the architecture its names and shapes fit.
        if (architecture is null && module is null)
        {
            var (s, sc, _) = ShapeArchitecture.Resolve(shapes, path, notes);
            architecture = (s, sc);
        }
        var spec = architecture?.Spec ?? ModelCatalog.YoloV8;
        // The class count is the head's: a classifier's linear layer [nc, 1280], a detector's class branch [nc, c, 1, 1].
        bool classifier = spec.Layers[^1].Module == "Classify";
        string headClasses = classifier ? $"model.{spec.Layers.Count - 1}.linear.weight" : $"model.{spec.Layers.Count - 1}.cv3.0.2.weight";
        long[] Shape(string name) => shapes.TryGetValue(name, out var r) ? r
            : throw new InvalidDataException($"{path}: tensor '{name}' not found, so this is not a {spec.Name} {(classifier ? "classification" : "detection")} model");

        // Class count from the head (the yaml's nc may predate a data override), scale from the yaml or the shapes.
        int nc = (int)Shape(headClasses)[0];
        if (yaml?.GetValueOrDefault("nc") is long yamlNc && yamlNc != nc)
            notes.Add($"yaml nc={yamlNc} but the head has {nc} classes; using {nc}");
        var scale = architecture?.Scale ?? ScaleFromShapes(shapes, ScaleFromYaml(yaml), path, notes);
        bool fused = ShapeArchitecture.IsFused(shapes);

        var model = new DetectionModel(spec, scale, nc);
        try
        {
            if (fused) model.Fuse();
            var loaded = new List<KeyValuePair<string, Tensor>>();
            StateDictTransfer.Result result;
            try
            {
                foreach (var (name, r) in refs) loaded.Add(new(name, ckpt.ToTensor(r)));
                result = StateDictTransfer.Matching(model, loaded);
            }
            finally
            {
                foreach (var (_, t) in loaded) t.Dispose();
            }
            if (result.ShapeMismatches.Count > 0)
                throw new InvalidDataException($"{path}: tensor shapes differ from a {spec.Name} '{scale.Name}' model with {nc} classes: "
                    + StateDictTransfer.Preview(result.ShapeMismatches));
            model.eval();
            var metadata = BuildMetadata(ckpt.Root as PickleDict, module, ckpt, model, fused, path, notes);
            var report = new ImportReport(path, result.Loaded.Count, result.Unused, result.Missing, notes);
            return new ImportedModel(model, metadata, report);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>The checkpoint's <c>ema</c> (when present) else <c>model</c>, as a module tree or a plain state dict.</summary>
    internal static (PickleObject? Module, Dictionary<string, TorchTensorRef>? StateDict, string Which) SelectModel(object? root, string path)
    {
        switch (root)
        {
            case PickleObject o:
                return (o, null, "root");
            case PickleDict d when IsStateDict(d):
                return (null, TensorsOf(d), "root state dict");
            case PickleDict d:
                foreach (var key in new[] { "ema", "model", "state_dict", "model_state_dict" })
                {
                    switch (d.GetValueOrDefault(key))
                    {
                        case PickleObject o: return (o, null, key);
                        case PickleDict sd when IsStateDict(sd): return (null, TensorsOf(sd), key);
                    }
                }
                throw new InvalidDataException($"{path}: checkpoint has no model: 'ema' and 'model' are both empty (keys: {string.Join(", ", d.Keys)})");
            default:
                throw new InvalidDataException($"{path}: checkpoint root is {RestrictedUnpickler.Describe(root)}, not a dict or module");
        }
    }

    /// <summary>
    /// A state dict: tensors by name. <c>model.state_dict()</c> is an OrderedDict whose pickled attributes (its
    /// <c>_metadata</c> of module versions) arrive beside the tensors; they carry no weights and are left out.
    /// </summary>
    static bool IsStateDict(PickleDict d) =>
        d.Any(kv => kv.Value is TorchTensorRef) && d.All(kv => kv.Value is TorchTensorRef || kv.Key is "_metadata");

    static Dictionary<string, TorchTensorRef> TensorsOf(PickleDict d) =>
        d.Where(kv => kv.Value is TorchTensorRef).ToDictionary(kv => kv.Key.ToString()!, kv => (TorchTensorRef)kv.Value!);

    /// <summary>
    /// Walks a pickled <c>nn.Module</c> tree into its state dict: <c>_parameters</c> and persistent <c>_buffers</c>
    /// of each module, under the dotted path of <c>_modules</c> names (exactly what <c>module.state_dict()</c> gives).
    /// </summary>
    public static Dictionary<string, TorchTensorRef> ModuleStateDict(PickleObject module)
    {
        var result = new Dictionary<string, TorchTensorRef>();
        Walk(module, "", result, new HashSet<PickleObject>(ReferenceEqualityComparer.Instance), 0);
        return result;
    }

    /// <summary>Deeper module trees than any real network are refused (a crafted one would overflow the stack, which no handler can catch).</summary>
    public const int MaxModuleDepth = 64;

    static void Walk(PickleObject m, string prefix, Dictionary<string, TorchTensorRef> into, HashSet<PickleObject> visiting, int depth)
    {
        if (depth > MaxModuleDepth)
            throw new InvalidDataException($"the module tree is nested more than {MaxModuleDepth} deep (at '{prefix.TrimEnd('.')}'): not a real network");
        if (!visiting.Add(m)) return; // a module cycle; state_dict would not recurse into it either
        var nonPersistent = m.Attribute("_non_persistent_buffers_set") as PickleSet;
        if (m.Attribute("_parameters") is PickleDict ps)
            foreach (var (k, v) in ps)
                if (v is TorchTensorRef t) into[prefix + k] = t;
        if (m.Attribute("_buffers") is PickleDict bs)
            foreach (var (k, v) in bs)
                if (v is TorchTensorRef t && nonPersistent?.Contains(k) != true) into[prefix + k] = t;
        if (m.Attribute("_modules") is PickleDict ms)
            foreach (var (k, v) in ms)
                if (v is PickleObject child) Walk(child, prefix + k + ".", into, visiting, depth + 1);
        visiting.Remove(m);
    }

    /// <summary>Refuses models Strix does not build (RT-DETR, World) by their class name.</summary>
    static void CheckTask(PickleObject root, string path)
    {
        if (root.Type.Name is "RTDETRDetectionModel" or "WorldModel")
            throw new InvalidDataException($"{path}: {root.Type.FullName} is not supported; Strix imports detection, segmentation, pose, OBB and classification models");
    }

    /// <summary>The class names of the module tree's layers (<c>model.model</c>).</summary>
    static List<(string Name, string FullName)> LayerTypes(PickleObject root, string path)
    {
        if (root.Attribute("_modules") is not PickleDict top || top.GetValueOrDefault("model") is not PickleObject seq
            || seq.Attribute("_modules") is not PickleDict layers)
            throw new InvalidDataException($"{path}: {root.Type.FullName} has no 'model' layer sequence");
        return layers.Select(kv => kv.Value is PickleObject o ? (o.Type.Name, o.Type.FullName) : ("None", "None")).ToList();
    }

    /// <summary>Refuses a module tree whose layers are not the ones its yaml rows build, naming the first that differs.</summary>
    static void CheckLayers(PickleObject root, ModelSpec spec, string path)
    {
        var types = LayerTypes(root, path);
        for (int i = 0; i < Math.Max(types.Count, spec.Layers.Count); i++)
        {
            var have = i < types.Count ? types[i].Name : "(nothing)";
            var want = i < spec.Layers.Count ? spec.Layers[i].Module : "(nothing)";
            // Rows stacked n times (non-CSP modules with repeats > 1) are a Sequential in the tree.
            if (have != want && !(have == "Sequential" && spec.Layers[i].Repeats > 1))
                throw new InvalidDataException($"{path}: layer {i} is {(i < types.Count ? types[i].FullName : have)} where its yaml builds {want}");
        }
    }

    /// <summary>Refuses module trees that are not a YOLOv8 detector, naming the first layer that differs.</summary>
    static void CheckArchitecture(PickleObject root, string path)
    {
        var layers = LayerTypes(root, path);
        var types = layers.Select(t => t.Name).ToList();
        for (int i = 0; i < Math.Max(types.Count, YoloV8Layers.Length); i++)
        {
            var have = i < types.Count ? types[i] : "(nothing)";
            var want = i < YoloV8Layers.Length ? YoloV8Layers[i] : "(nothing)";
            if (have != want)
            {
                var full = i < types.Count ? layers[i].FullName : have;
                throw new InvalidDataException($"{path}: layer {i} is {full} where YOLOv8 has {want}; Strix imports YOLOv8 detection models only");
            }
        }
    }

    [GeneratedRegex(@"^model\.(\d+)\.m\.(\d+)\.")]
    private static partial Regex BottleneckName();

    /// <summary>The named scale (from a yaml) when it fits the tensors, otherwise the scale the tensor shapes imply.</summary>
    internal static YoloScale ScaleFromShapes(IReadOnlyDictionary<string, long[]> shapes, YoloScale? fromYaml, string path, List<string> notes)
    {
        int Repeats(int layer) => shapes.Keys.Select(k => BottleneckName().Match(k)).Where(m => m.Success && m.Groups[1].Value == layer.ToString(CultureInfo.InvariantCulture))
                                       .Select(m => m.Groups[2].Value).Distinct().Count();
        var channels = ScaleInference.ChannelLayers.Select(l => shapes.TryGetValue($"model.{l}.conv.weight", out var r) ? r[0]
            : throw new InvalidDataException($"{path}: tensor 'model.{l}.conv.weight' not found, so this is not a YOLOv8 detection model")).ToArray();
        int r2 = Repeats(2), r4 = Repeats(4);
        if (fromYaml is not null)
        {
            if (ScaleInference.Matches(fromYaml, r2, r4, channels)) return fromYaml;
            notes.Add($"the yaml's scale '{fromYaml.Name}' does not fit the tensor shapes; inferring the scale from them");
        }
        var name = fromYaml?.Name ?? "custom";
        return Inferred(r2, r4, channels, YoloScale.All.Any(s => s.Name == name) ? "custom" : name, path, notes);
    }

    internal static YoloScale Inferred(int r2, int r4, long[] channels, string name, string path, List<string> notes)
    {
        var inferred = ScaleInference.Infer(r2, r4, channels, name)
            ?? throw new InvalidDataException($"{path}: no YOLOv8 scale gives layer 2/4 repeats {r2}/{r4} and channels [{string.Join(", ", channels)}]");
        if (!YoloScale.All.Contains(inferred))
            notes.Add($"scale inferred from tensor shapes: depth {inferred.Depth}, width {inferred.Width}, max channels {inferred.MaxChannels}");
        return inferred;
    }

    /// <summary>Ultralytics' yaml: <c>scale</c> names a row of the <c>scales</c> table ([depth, width, max_channels]).</summary>
    static YoloScale? ScaleFromYaml(PickleDict? yaml)
    {
        if (yaml is null) return null;
        var name = yaml.GetValueOrDefault("scale") as string;
        if (string.IsNullOrEmpty(name) && yaml.GetValueOrDefault("yaml_file") is string file
            && ModelCatalog.TryResolve(file, out var spec, out var fileScale) && spec.Name == "yolov8")
            return fileScale;
        if (string.IsNullOrEmpty(name)) return null;
        if (yaml.GetValueOrDefault("scales") is PickleDict table && table.GetValueOrDefault(name) is IReadOnlyList<object?> { Count: 3 } row
            && ToDouble(row[0]) is { } d && ToDouble(row[1]) is { } w && row[2] is long mc)
        {
            var s = new YoloScale(name, d, w, (int)mc);
            return YoloScale.All.FirstOrDefault(x => x == s) ?? s;
        }
        return YoloScale.All.FirstOrDefault(s => s.Name == name);
    }

    static double? ToDouble(object? v) => v switch { double d => d, long l => l, _ => null };

    static ModelMetadata BuildMetadata(PickleDict? root, PickleObject? module, TorchCheckpoint ckpt, DetectionModel model, bool fused, string path, List<string> notes)
    {
        int nc = model.NumClasses;
        var names = ReadNames(module?.Attribute("names"), nc, notes);
        var trainArgs = new Dictionary<string, string>();
        var args = root?.GetValueOrDefault("train_args") as PickleDict
                   ?? (module?.Attribute("args") as PickleObject)?.State as PickleDict
                   ?? module?.Attribute("args") as PickleDict;
        if (args is not null)
            foreach (var (k, v) in args) trainArgs[k.ToString()!] = PythonValue.Format(v);
        int imgsz = 640;
        if (args?.GetValueOrDefault("imgsz") is long sz) imgsz = (int)sz;
        else if (args?.GetValueOrDefault("imgsz") is IReadOnlyList<object?> { Count: > 0 } szs && szs.Max(x => x as long? ?? 0) is > 0 and var m) imgsz = (int)m;

        var strides = model.Strides.Select(s => (int)s).ToArray();
        if (module?.Attribute("stride") is TorchTensorRef st && model.Task != "classify") // a ClassificationModel's stride is a placeholder 1
        {
            int[] values;
            using (NewDisposeScope()) values = ckpt.ToTensor(st).to(ScalarType.Float32).data<float>().Select(x => (int)MathF.Round(x)).ToArray();
            if (!values.SequenceEqual(strides)) notes.Add($"model strides [{string.Join(", ", values)}] differ from the architecture's [{string.Join(", ", strides)}]");
        }

        var extra = new Dictionary<string, string> { ["source"] = Path.GetFileName(path), ["source_format"] = "ultralytics-pt" };
        if (root is not null)
        {
            foreach (var key in new[] { "version", "epoch", "best_fitness", "updates" })
                if (root.GetValueOrDefault(key) is { } v and not PickleObject) extra[key == "version" ? "ultralytics_version" : "source_" + key] = PythonValue.Format(v);
        }
        return new ModelMetadata
        {
            Names = names,
            Task = model.Task,
            Scale = model.Scale,
            Architecture = model.Spec.Name,
            ModelYaml = model.Spec.Text,
            ImgSz = imgsz,
            Strides = strides,
            Fused = fused,
            Date = root?.GetValueOrDefault("date") as string ?? DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            TrainArgs = trainArgs,
            Extra = extra,
        };
    }

    /// <summary>Ultralytics keeps names as {id: name} (older files: a list).</summary>
    static IReadOnlyList<string> ReadNames(object? names, int nc, List<string> notes)
    {
        string[]? result = null;
        if (names is PickleDict d && d.Keys.All(k => k is long l && l >= 0 && l < nc) && d.Count == nc)
        {
            result = new string[nc];
            foreach (var (k, v) in d) result[(long)k] = v?.ToString() ?? $"class{k}";
        }
        else if (names is List<object?> list && list.Count == nc)
            result = list.Select((v, i) => v?.ToString() ?? $"class{i}").ToArray();
        if (result is null)
        {
            notes.Add(names is null ? "no class names in the checkpoint; using defaults" : $"class names do not match {nc} classes; using defaults");
            return ModelMetadata.DefaultNames(nc);
        }
        return result;
    }
}
