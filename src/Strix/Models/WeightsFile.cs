using Strix.IO;
using static TorchSharp.torch;

namespace Strix.Models;

/// <summary>
/// Strix's own weight file: safetensors holding the model's state dict under Ultralytics-identical names
/// (<c>model.0.conv.weight</c> …), plus <see cref="ModelMetadata"/> in the header. Python reads it with
/// <c>safetensors.torch.load_file</c>; the architecture is rebuilt from the metadata's model YAML, scale and class count.
/// Written atomically (temporary file, then rename).
/// </summary>
public static class WeightsFile
{
    public const string Extension = ".safetensors";

    /// <summary>
    /// Writes <paramref name="model"/>'s tensors (in their current dtype) and <paramref name="metadata"/>.
    /// Scale and fusion state are taken from the model; the class names must match its class count.
    /// Fused models may be saved (metadata <c>fused=true</c>); they load as fused, inference-only models.
    /// </summary>
    public static void Save(DetectionModel model, string path, ModelMetadata metadata)
    {
        if (metadata.NumClasses != model.NumClasses)
            throw new ArgumentException($"metadata lists {metadata.NumClasses} class names, the model has {model.NumClasses} classes");
        if (metadata.Task != model.Task && metadata.Task != "detect")
            throw new ArgumentException($"task '{metadata.Task}' given for {model.Name}, a {model.Task} model");
        var meta = metadata with
        {
            Task = model.Task,
            Scale = model.Scale, Architecture = model.Spec.Name, ModelYaml = model.Spec.Text,
            Fused = model.IsFused, StrixVersion = ModelMetadata.CurrentStrixVersion,
        };
        Safetensors.Save(path, model.state_dict(), meta.ToDictionary());
    }

    /// <summary>
    /// Rebuilds the model a weight file describes and loads every tensor (strictly: names and shapes must match).
    /// The model is built from the header and the header's tensors checked against it before any tensor is read,
    /// so a file that claims the wrong tensors is refused without reading (or allocating) its data.
    /// </summary>
    public static (DetectionModel Model, ModelMetadata Metadata) Load(string path)
    {
        DetectionModel? model = null;
        ModelMetadata? meta = null;
        try
        {
            using var contents = Safetensors.Load(path, (header, tensors) =>
            {
                meta = ModelMetadata.FromDictionary(header, path);
                if (meta.Task is not ("detect" or "segment" or "classify" or "pose" or "obb"))
                    throw new InvalidDataException($"{path}: task '{meta.Task}' is not supported (Strix builds detect, segment, classify, pose and obb models)");
                model = new DetectionModel(meta.ArchitectureSpec(path), meta.Scale, meta.NumClasses);
                // Files written before the task was recorded say "detect" for every model: the architecture decides.
                if (meta.Task != "detect" && meta.Task != model.Task)
                    throw new InvalidDataException($"{path}: its header says task '{meta.Task}', but its architecture builds a {model.Task} model");
                meta = meta with { Task = model.Task };
                if (meta.Fused) model.Fuse();
                StateDictTransfer.CheckStrict(model.state_dict(), ModelTensors(tensors).ToDictionary(t => t.Name, t => t.Shape), path);
            });
            StateDictTransfer.Strict(model!, ModelTensors(contents.Tensors.Select(kv => (kv.Key, kv.Value))).ToDictionary(t => t.Name, t => t.Value), path);
            model!.eval();
            return (model, meta!);
        }
        catch
        {
            model?.Dispose();
            throw;
        }
    }

    // Training checkpoints (weights/last) add optimizer and RNG state under "train/…" names;
    // state-dict keys never contain '/', so the model's tensors are exactly the others.
    static IEnumerable<Safetensors.TensorInfo> ModelTensors(IEnumerable<Safetensors.TensorInfo> all) => all.Where(t => !t.Name.Contains('/'));
    static IEnumerable<(string Name, Tensor Value)> ModelTensors(IEnumerable<(string Name, Tensor Value)> all) => all.Where(t => !t.Name.Contains('/'));

    /// <summary>Reads only the metadata (the tensors are not loaded).</summary>
    public static ModelMetadata ReadMetadata(string path) =>
        ModelMetadata.FromDictionary(Safetensors.ReadMetadata(path), path);
}
