using Strix.Data;
using static TorchSharp.torch;

namespace Strix.Cli.Commands;

/// <summary>A loader's images as INT8 calibration inputs (<see cref="Strix.Export.OnnxQuantizer"/>): float 0–1 [B, 3, H, W], the validation preprocessing.</summary>
internal static class CalibrationInputs
{
    /// <param name="loader">Usually the val split, loaded for validation.</param>
    /// <param name="batch">A fixed-batch export takes only batches of this size (a short last batch is left out); null: all.</param>
    public static IEnumerable<(float[] Data, long[] Shape)> From(DataLoader loader, int? batch = null)
    {
        foreach (var b in loader)
            using (b)
            using (var x = b.FloatImages(CPU))
                if (batch is null || x.shape[0] == batch)
                    yield return (Strix.Runtime.TensorArrays.Floats(x), x.shape);
    }
}
