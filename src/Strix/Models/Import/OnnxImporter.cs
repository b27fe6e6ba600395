using Strix.IO;
using System.Globalization;
using Strix.Export;
using Strix.IO.Onnx;
using Strix.Models.Architecture;
using Strix.Nn;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Strix.Models.Import;

/// <summary>
/// Imports YOLOv8 detectors exported to ONNX by Ultralytics (or <c>torch.onnx.export</c>). Such exports are
/// BN-fused, so the result is a <em>fused</em> <see cref="DetectionModel"/> (inference only). The weights are the
/// graph's Conv nodes' initializers: matched by name when the exporter kept parameter names
/// (<c>model.0.conv.weight</c> …), otherwise (anonymous <c>onnx::Conv_123</c> names) by the order of Conv nodes
/// in the graph against the order our forward pass runs its convolutions, every shape verified.
/// Class names, image size and stride come from Ultralytics' <c>metadata_props</c>.
/// </summary>
public static class OnnxImporter
{
    /// <summary>Reads <paramref name="path"/> and builds the equivalent fused model (eval mode, fp32).</summary>
    public static ImportedModel Load(string path)
    {
        var proto = ModelProto.Load(path);
        var graph = proto.Graph!;
        var notes = new List<string>();
        var task = proto.GetMetadata("task");
        if (task is not null && task != "detect")
            throw new InvalidDataException($"{path}: task '{task}' is not supported; Strix imports detection models");

        // Constant tensors by name: initializers and Constant nodes' values.
        var constants = new Dictionary<string, TensorProto>();
        foreach (var t in graph.Initializer) constants[t.Name] = t;
        foreach (var n in graph.Node)
            if (n.OpType == "Constant" && n.Output.Count == 1 && n.GetAttribute("value")?.T is { } v) constants[n.Output[0]] = v;

        var convs = new List<(NodeProto Node, TensorProto Weight, TensorProto? Bias)>();
        foreach (var n in graph.Node.Where(n => n.OpType == "Conv"))
        {
            if (n.Input.Count < 2 || !constants.TryGetValue(n.Input[1], out var w))
                throw new InvalidDataException($"{path}: Conv node '{n.Name}' has no constant weight");
            TensorProto? b = n.Input.Count > 2 && n.Input[2] != "" ? constants.GetValueOrDefault(n.Input[2]) : null;
            if (n.Input.Count > 2 && n.Input[2] != "" && b is null)
                throw new InvalidDataException($"{path}: Conv node '{n.Name}' has a non-constant bias '{n.Input[2]}'");
            convs.Add((n, w, b));
        }
        if (convs.Count == 0) throw new InvalidDataException($"{path}: the graph has no Conv nodes, so it is not a YOLO detector");

        // Named exports: each Conv weight is called "<module>.weight" with our module paths.
        bool named = convs.All(c => c.Weight.Name.StartsWith("model.", StringComparison.Ordinal) && c.Weight.Name.EndsWith(".weight", StringComparison.Ordinal))
                     && convs.Select(c => c.Weight.Name).Distinct().Count() == convs.Count;
        var (spec, scale, nc) = named ? ArchitectureFromNames(convs, path, notes) : ArchitectureFromOrder(convs, path, notes);

        var model = new DetectionModel(spec, scale, nc);
        try
        {
            model.Fuse();
            var ours = ExecutionOrderConvs(model);
            if (ours.Count != convs.Count)
                throw new InvalidDataException($"{path}: the graph has {convs.Count} Conv nodes, a {spec.Name} '{scale.Name}' detector has {ours.Count}");
            var byName = ours.ToDictionary(o => o.Name);
            var loaded = new List<string>();
            var used = new HashSet<string>();
            using (no_grad())
                for (int i = 0; i < convs.Count; i++)
                {
                    var (node, w, b) = convs[i];
                    string prefix = named ? w.Name[..^".weight".Length] : ours[i].Name;
                    if (!byName.TryGetValue(prefix, out var target))
                        throw new InvalidDataException($"{path}: Conv weight '{w.Name}' names no convolution of a {spec.Name} model");
                    Copy(target.Conv.weight!, w, $"{prefix}.weight", path);
                    loaded.Add($"{prefix}.weight");
                    used.Add(w.Name);
                    if (b is not null)
                    {
                        if (target.Conv.bias is null)
                            throw new InvalidDataException($"{path}: Conv node '{node.Name}' has a bias '{b.Name}' but '{prefix}' has none");
                        Copy(target.Conv.bias, b, $"{prefix}.bias", path);
                        loaded.Add($"{prefix}.bias");
                        used.Add(b.Name);
                    }
                }
            model.eval();

            var loadedSet = loaded.ToHashSet();
            var missing = model.state_dict().Keys.Where(k => !loadedSet.Contains(k)).ToList();
            // Initializers that feed Conv nodes are weights; the rest (shape constants, anchors) are graph plumbing.
            var convInputs = convs.SelectMany(c => c.Node.Input.Skip(1)).ToHashSet();
            var unmapped = graph.Initializer.Where(t => convInputs.Contains(t.Name) && !used.Contains(t.Name)).Select(t => t.Name).ToList();
            int plumbing = graph.Initializer.Count(t => !convInputs.Contains(t.Name));
            if (plumbing > 0) notes.Add($"{plumbing} initializer(s) feed non-Conv nodes (shapes, anchors): graph constants, not weights");
            if (!named) notes.Add("anonymous initializer names: weights matched by Conv node order, shapes verified");

            var metadata = ReadMetadata(proto, model, scale, path, notes);
            return new ImportedModel(model, metadata, new ImportReport(path, loaded.Count, unmapped, missing, notes));
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Our convolutions in the order the forward pass runs them (the order an exported graph lists them), found by
    /// running a small probe input with a hook on every convolution; the DFL's fixed convolution, which only the
    /// decoding step runs, comes last, as the export emits it.
    /// </summary>
    public static List<(string Name, Conv2d Conv)> ExecutionOrderConvs(DetectionModel model)
    {
        var names = model.named_modules().Where(m => m.module is Conv2d).ToDictionary(m => (Conv2d)m.module, m => m.name);
        var order = new List<(string, Conv2d)>();
        var hooks = new List<Action>();
        foreach (var conv in names.Keys)
        {
            var h = conv.register_forward_hook((m, _, output) => { order.Add((names[(Conv2d)m], (Conv2d)m)); return output; });
            hooks.Add(h.remove);
        }
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var _ = no_grad();
            int s = model.MaxStride;
            var p = model.parameters().First();
            using var x = zeros(new long[] { 1, model.InputChannels, s, s }, dtype: p.dtype, device: p.device);
            foreach (var t in model.call(x)) t.Dispose();
        }
        finally
        {
            foreach (var remove in hooks) remove();
            model.train(wasTraining);
        }
        order.Add(($"model.{model.Layers.Count - 1}.dfl.conv", model.Head.dfl.conv));
        return order;
    }

    static void Copy(Tensor target, TensorProto source, string name, string path)
    {
        if (!source.Dims.SequenceEqual(target.shape))
            throw new InvalidDataException($"{path}: '{source.Name}' has shape [{string.Join(", ", source.Dims)}], '{name}' needs [{string.Join(", ", target.shape)}]");
        float[] values;
        try { values = source.ToFloatArray(); }
        catch (NotSupportedException e) { throw new InvalidDataException($"{path}: {e.Message}", e); }
        using var t = tensor(values, source.Dims.ToArray());
        target.copy_(t);
    }

    /// <summary>
    /// Architecture, scale and class count from named weights (as the .pt importer does with a state dict): YOLOv8 with
    /// its scale inference, any other built-in family by matching every name and shape of the fused model.
    /// </summary>
    static (ModelSpec, YoloScale, int) ArchitectureFromNames(List<(NodeProto Node, TensorProto Weight, TensorProto? Bias)> convs, string path, List<string> notes)
    {
        var shapes = convs.ToDictionary(c => c.Weight.Name, c => c.Weight.Dims.ToArray());
        foreach (var c in convs.Where(c => c.Bias is not null)) shapes[c.Weight.Name[..^".weight".Length] + ".bias"] = c.Bias!.Dims.ToArray();
        return ShapeArchitecture.Resolve(shapes, path, notes);
    }

    /// <summary>
    /// Scale and class count from the Conv sequence alone: the count gives the depth (44 + 2·Σrepeats), the
    /// downsampling Convs' positions then give the widths, the head's last class Conv the class count.
    /// </summary>
    static (ModelSpec, YoloScale, int) ArchitectureFromOrder(List<(NodeProto Node, TensorProto Weight, TensorProto? Bias)> convs, string path, List<string> notes)
    {
        if (convs.Any(c => (c.Node.GetAttribute("group")?.I ?? 1) != 1)) return BuiltinFromOrder(convs, path);
        foreach (var depth in YoloScale.All.Select(s => s.Depth).Distinct())
        {
            var probe = new YoloScale("probe", depth, 1, 1024);
            int r3 = probe.Repeats(3), r6 = probe.Repeats(6);
            int total = 44 + 2 * (r3 + r6 + r6 + r3 + 4 * r3);
            if (total != convs.Count) continue;
            // Execution positions of layers 0, 1, 3, 5, 7 (each C2f runs 2 + 2n convolutions).
            int i3 = 2 + (2 + 2 * r3), i5 = i3 + 1 + (2 + 2 * r6), i7 = i5 + 1 + (2 + 2 * r6);
            var channels = new[] { 0, 1, i3, i5, i7 }.Select(i => convs[i].Weight.Dims[0]).ToArray();
            var scale = UltralyticsImporter.Inferred(r3, r6, channels, "custom", path, notes);
            // Order: … cv3[last].2 (nc outputs), then dfl.
            int nc = (int)convs[^2].Weight.Dims[0];
            return (ModelCatalog.YoloV8, scale, nc);
        }
        return BuiltinFromOrder(convs, path);
    }

    /// <summary>
    /// The built-in family and scale whose fused convolutions, in execution order, have exactly the graph's Conv
    /// weight shapes (YOLO11 and the variants; candidates are narrowed by the first convolution's width).
    /// </summary>
    static (ModelSpec, YoloScale, int) BuiltinFromOrder(List<(NodeProto Node, TensorProto Weight, TensorProto? Bias)> convs, string path)
    {
        int nc = (int)convs[^2].Weight.Dims[0];
        foreach (var (spec, scale) in ShapeArchitecture.Candidates(convs[0].Weight.Dims[0]))
        {
            using var candidate = new DetectionModel(spec, scale, nc);
            candidate.Fuse();
            var ours = ExecutionOrderConvs(candidate);
            if (ours.Count == convs.Count && ours.Zip(convs).All(p => p.First.Conv.weight!.shape.SequenceEqual(p.Second.Weight.Dims)))
                return (spec, scale, nc);
        }
        throw new InvalidDataException($"{path}: its {convs.Count} Conv nodes fit no built-in architecture ({string.Join(", ", ModelCatalog.Families)} at any scale)");
    }

    /// <summary>Ultralytics' metadata_props: names ({0: 'person', …}), imgsz ([640, 640]), stride, version, date.</summary>
    static ModelMetadata ReadMetadata(ModelProto proto, DetectionModel model, YoloScale scale, string path, List<string> notes)

    {
        int nc = model.NumClasses;
        IReadOnlyList<string>? names = null;
        if (proto.GetMetadata("names") is { } rawNames)
        {
            try
            {
                names = PythonLiteral.ParseNames(rawNames);
                if (names.Count != nc)
                {
                    notes.Add($"metadata names list {names.Count} classes, the model has {nc}; using defaults");
                    names = null;
                }
            }
            catch (FormatException e) { notes.Add($"metadata names are not readable ({e.Message}); using defaults"); }
        }
        else notes.Add("no class names in the metadata; using defaults");

        int imgsz = 640;
        var extra = new Dictionary<string, string> { ["source"] = Path.GetFileName(path), ["source_format"] = "onnx" };
        if (proto.GetMetadata("imgsz") is { } rawSize)
        {
            try
            {
                var sizes = PythonLiteral.ParseIntList(rawSize);
                if (sizes.Length > 0 && sizes.All(s => s > 0))
                {
                    imgsz = sizes.Max();
                    if (sizes.Distinct().Count() > 1) extra["imgsz_hw"] = rawSize;
                }
            }
            catch (FormatException) { notes.Add($"metadata imgsz '{rawSize}' is not readable; assuming 640"); }
        }
        if (proto.GetMetadata("stride") is { } rawStride && rawStride != model.MaxStride.ToString(CultureInfo.InvariantCulture))
            notes.Add($"metadata stride {rawStride} differs from the model's {model.MaxStride}");
        foreach (var (key, as_) in new[] { ("version", "ultralytics_version"), ("description", "description"), ("author", "author"), ("batch", "export_batch") })
            if (proto.GetMetadata(key) is { } v) extra[as_] = v;
        if (proto.ProducerName != "") extra["onnx_producer"] = proto.ProducerName;
        extra["onnx_opset"] = proto.OnnxOpset.ToString(CultureInfo.InvariantCulture);

        return new ModelMetadata
        {
            Names = names ?? ModelMetadata.DefaultNames(nc),
            Scale = scale,
            Architecture = model.Spec.Name,
            ModelYaml = model.Spec.Text,
            ImgSz = imgsz,
            Strides = model.Strides.Select(s => (int)s).ToArray(),
            Fused = true,
            Date = proto.GetMetadata("date") ?? DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            Extra = extra,
        };
    }
}
