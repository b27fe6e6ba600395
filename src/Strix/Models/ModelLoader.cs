using Strix.Models.Architecture;
using Strix.Models.Import;

namespace Strix.Models;

/// <summary>A model ready to use, what is known about it, and (for imports and class-count changes) the transfer report.</summary>
public sealed record LoadedModel(DetectionModel Model, ModelMetadata Metadata, string Source, ImportReport? Report) : IDisposable
{
    public void Dispose() => Model.Dispose();
}

/// <summary>
/// Resolves a <c>model=</c> argument the way Ultralytics does: a built-in name (<c>yolov8n</c>, <c>yolo11s.yaml</c>,
/// <c>yolov8n-p2</c>) or the path of a model YAML file builds a fresh model; a path loads weights — Strix <c>.safetensors</c>, Ultralytics <c>.pt</c> checkpoints,
/// Ultralytics <c>.onnx</c> exports. When <c>nc</c> differs from the weights' class count (fine-tuning on a new
/// dataset), a fresh model with <c>nc</c> classes receives every tensor whose name and shape match,
/// and the report says what was transferred.
/// </summary>
public static class ModelLoader
{
    /// <param name="modelArg">Built-in model name, model YAML path, or weights path.</param>
    /// <param name="nc">Class count wanted (null: the weights' own, or 80 for a fresh model).</param>
    /// <param name="log">Receives import and transfer reports (e.g. Console.WriteLine); null is silent.</param>
    public static LoadedModel Load(string modelArg, int? nc = null, Action<string>? log = null)
    {
        if (string.IsNullOrWhiteSpace(modelArg)) throw new ArgumentException($"model= is empty (expected {Expected} or a weights file)");
        if (nc is < 1) throw new ArgumentOutOfRangeException(nameof(nc), "a detector needs at least one class");
        var arg = modelArg.Trim();
        var ext = Path.GetExtension(arg).ToLowerInvariant();
        if (ext is ".yaml" or ".yml" || ModelCatalog.IsBuiltinName(arg))
        {
            var architecture = ModelCatalog.Resolve(arg) ?? throw new FileNotFoundException(
                $"model={arg}: no such model file, and it names no built-in model ({Expected})", arg);
            var fresh = new DetectionModel(architecture.Spec, architecture.Scale, nc ?? architecture.Spec.NumClasses);
            return new LoadedModel(fresh, ModelMetadata.For(fresh), arg, null);
        }

        if (ext is not (".safetensors" or ".pt" or ".pth" or ".onnx"))
            throw new ArgumentException($"model={arg}: unsupported; expected a built-in model ({Expected}), a model .yaml, or a .safetensors, .pt or .onnx file");
        if (!File.Exists(arg))
        {
            var hint = ModelCatalog.IsBuiltinName(Path.GetFileNameWithoutExtension(arg))
                ? $" Strix does not download weights: pass model={Path.GetFileNameWithoutExtension(arg)} to start from scratch, or the path of a downloaded file."
                : "";
            throw new FileNotFoundException($"model={arg}: file not found.{hint}", arg);
        }

        LoadedModel loaded;
        switch (ext)
        {
            case ".safetensors" when StateDictImporter.IsForeign(Strix.IO.Safetensors.ReadMetadata(arg)):
            {
                var imp = StateDictImporter.LoadSafetensors(arg);
                Report(imp.Report, log);
                loaded = new LoadedModel(imp.Model, imp.Metadata, arg, imp.Report);
                break;
            }
            case ".safetensors":
            {
                var (m, meta) = WeightsFile.Load(arg);
                loaded = new LoadedModel(m, meta, arg, null);
                break;
            }
            case ".onnx":
            {
                var imp = OnnxImporter.Load(arg);
                Report(imp.Report, log);
                loaded = new LoadedModel(imp.Model, imp.Metadata, arg, imp.Report);
                break;
            }
            default:
            {
                var imp = UltralyticsImporter.Load(arg);
                Report(imp.Report, log);
                loaded = new LoadedModel(imp.Model, imp.Metadata, arg, imp.Report);
                break;
            }
        }
        if (nc is null || nc == loaded.Model.NumClasses) return loaded;
        using (loaded) return Retarget(loaded, nc.Value, log);
    }

    /// <summary>A fresh model with <paramref name="nc"/> classes holding every tensor of <paramref name="from"/> that fits.</summary>
    static LoadedModel Retarget(LoadedModel from, int nc, Action<string>? log)
    {
        if (from.Model.IsFused)
            throw new ArgumentException($"model={from.Source}: fused (inference-only) weights have {from.Model.NumClasses} classes and cannot be retrained for {nc}");
        var model = from.Model.WithClasses(nc);
        try
        {
            var result = StateDictTransfer.Matching(model, from.Model.state_dict());
            var notes = new List<string> { $"class count changed from {from.Model.NumClasses} to {nc}: the class outputs start fresh" };
            var report = new ImportReport(from.Source, result.Loaded.Count, result.Unused.Concat(result.ShapeMismatches).ToList(), result.Missing, notes);
            Report(report, log);
            var meta = ModelMetadata.For(model, imgsz: from.Metadata.ImgSz) with
            {
                TrainArgs = from.Metadata.TrainArgs,
                Extra = new Dictionary<string, string>(from.Metadata.Extra) { ["pretrained_from"] = Path.GetFileName(from.Source) },
            };
            return new LoadedModel(model, meta, from.Source, report);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    const string Expected = "yolov8n…yolov8x, yolo11n…yolo11x, yolov8n-p2, yolov8n-p6";

    static void Report(ImportReport report, Action<string>? log)
    {
        if (log is null) return;
        log(report.Complete && report.Notes.Count == 0 ? report.Summary : report.ToString());
    }
}
