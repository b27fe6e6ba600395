using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Strix.Engine.Optim;

/// <summary>
/// Parameter groups for an optimizer. <see cref="Classify"/> splits a model the way weight decay is
/// usually applied: every name containing "bias" goes to the biases (no decay); weights of normalisation
/// layers (any module whose type name contains "Norm": BatchNorm, LayerNorm, GroupNorm …) to the norm
/// weights (no decay); all other weights to the decayed group. Frozen parameters (requires_grad false)
/// are kept out of every group.
/// </summary>
public static class ParameterGroups
{
    public sealed record Split(
        IReadOnlyList<(string Name, Parameter Param)> Weights,
        IReadOnlyList<(string Name, Parameter Param)> NormWeights,
        IReadOnlyList<(string Name, Parameter Param)> Biases);

    public static Split Classify(nn.Module model)
    {
        var weights = new List<(string, Parameter)>();
        var norms = new List<(string, Parameter)>();
        var biases = new List<(string, Parameter)>();
        foreach (var (moduleName, module) in model.named_modules().Prepend(("", model)).DistinctBy(m => m.Item2))
        {
            bool isNorm = module.GetType().Name.Contains("Norm", StringComparison.Ordinal);
            foreach (var (paramName, p) in module.named_parameters(recurse: false))
            {
                if (!p.requires_grad) continue;
                var full = moduleName.Length == 0 ? paramName : $"{moduleName}.{paramName}";
                if (full.Contains("bias", StringComparison.Ordinal)) biases.Add((full, p));
                else if (isNorm) norms.Add((full, p));
                else weights.Add((full, p));
            }
        }
        return new Split(weights, norms, biases);
    }

    /// <summary>One group with every trainable parameter (the simple case for small modules).</summary>
    public static ParamGroup All(nn.Module model, double lr, double momentum = 0, double weightDecay = 0) =>
        new("all", model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => (p.name, p.parameter)), lr, momentum, weightDecay);

    /// <summary>Builds an optimizer by Ultralytics name: SGD (Nesterov), Adam, AdamW.</summary>
    public static Optimizer Create(string name, IEnumerable<ParamGroup> groups) => name.ToLowerInvariant() switch
    {
        "sgd" => new Sgd(groups, nesterov: true),
        "adam" => new Adam(groups, decoupledWeightDecay: false),
        "adamw" => new Adam(groups, decoupledWeightDecay: true),
        _ => throw new ArgumentException($"optimizer '{name}' is not supported (SGD, Adam, AdamW, auto)"),
    };
}
