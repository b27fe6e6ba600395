using static TorchSharp.torch;

namespace Strix.Engine.Precision;

/// <summary>Lightning's precision names: "32" (fp32), "bf16-mixed", "fp16-mixed".</summary>
public enum PrecisionMode { Fp32, Bf16Mixed, Fp16Mixed }

public static class Precisions
{
    public static PrecisionMode Parse(string text) => text.Trim().ToLowerInvariant() switch
    {
        "32" or "32-true" or "fp32" or "float32" => PrecisionMode.Fp32,
        "bf16-mixed" or "bf16" => PrecisionMode.Bf16Mixed,
        "16-mixed" or "fp16-mixed" or "16" or "fp16" => PrecisionMode.Fp16Mixed,
        _ => throw new ArgumentException($"precision '{text}' is not one of 32, bf16-mixed, fp16-mixed"),
    };

    public static string Name(this PrecisionMode mode) => mode switch
    {
        PrecisionMode.Fp32 => "32",
        PrecisionMode.Bf16Mixed => "bf16-mixed",
        _ => "fp16-mixed",
    };

    /// <summary>The autocast dtype of a mixed mode (null for fp32).</summary>
    public static ScalarType? AutocastDType(this PrecisionMode mode) => mode switch
    {
        PrecisionMode.Bf16Mixed => ScalarType.BFloat16,
        PrecisionMode.Fp16Mixed => ScalarType.Float16,
        _ => null,
    };
}
