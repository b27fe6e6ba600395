using Strix.IO;
using static TorchSharp.torch;

namespace Strix.Models.Import;

/// <summary>
/// Imports weights that carry no Strix metadata and no architecture: a <c>.safetensors</c> written from Python
/// (<c>safetensors.torch.save_file(model.state_dict(), …)</c>). The architecture comes from the tensor names and
/// shapes (<see cref="ShapeArchitecture"/>; YOLOv8's narrow and custom scales through its scale inference).
/// </summary>
public static class StateDictImporter
{
    /// <summary>True when a safetensors header is not one Strix wrote (no <c>format</c> key).</summary>
    public static bool IsForeign(IReadOnlyDictionary<string, string> metadata) => !metadata.ContainsKey("format");

    public static ImportedModel LoadSafetensors(string path)
    {
        using var contents = Safetensors.Load(path);
        var shapes = contents.Tensors.ToDictionary(kv => kv.Key, kv => kv.Value.shape);
        var notes = new List<string> { "no Strix metadata: architecture from the tensor names and shapes, default class names" };
        var (spec, scale, nc) = ShapeArchitecture.Resolve(shapes, path, notes);
        bool fused = ShapeArchitecture.IsFused(shapes);
        var model = new DetectionModel(spec, scale, nc);
        try
        {
            if (fused) model.Fuse();
            var result = StateDictTransfer.Matching(model, contents.Tensors);
            if (result.ShapeMismatches.Count > 0)
                throw new InvalidDataException($"{path}: tensor shapes differ from {spec.ModelName(scale)} with {nc} classes: {StateDictTransfer.Preview(result.ShapeMismatches)}");
            model.eval();
            var meta = ModelMetadata.For(model) with
            {
                Extra = new Dictionary<string, string> { ["source"] = Path.GetFileName(path), ["source_format"] = "state-dict" },
            };
            return new ImportedModel(model, meta, new ImportReport(path, result.Loaded.Count, result.Unused, result.Missing, notes));
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}
