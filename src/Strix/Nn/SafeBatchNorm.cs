using Strix.Runtime;
using System.Runtime.CompilerServices;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Strix.Nn;

/// <summary>
/// Training-mode batch norm without TorchSharp 0.107's Scalar race. <c>BatchNorm2d.forward</c> counts
/// batches with <c>num_batches_tracked.add_(1)</c>, whose implicit Scalar nothing references while
/// libtorch reads it; a GC triggered by data-loader threads can finalize it mid-op ("Unknown scalar
/// type", seen crashing the quick-start run in its first epoch; see <see cref="Strix.Runtime.Scalars"/>). Here the
/// count uses held Scalars and the normalisation is the same functional call. Eval mode (which creates
/// no Scalar) still goes through the module. A layer may have its training computation replaced
/// (synchronised batch norm does this) while keeping the same counting.
/// </summary>
public static class SafeBatchNorm
{
    /// <summary>Training-mode computation of a layer: (layer, input, momentum factor for this batch) → output.</summary>
    public delegate Tensor TrainingForward(BatchNorm2d bn, Tensor input, double momentum);

    static readonly ConditionalWeakTable<BatchNorm2d, TrainingForward> Overrides = new();

    /// <summary>Replaces <paramref name="bn"/>'s training-mode computation until the result is disposed.</summary>
    public static IDisposable OverrideTraining(BatchNorm2d bn, TrainingForward forward)
    {
        Overrides.AddOrUpdate(bn, forward);
        return new Restore(bn);
    }

    public static Tensor Forward(BatchNorm2d bn, Tensor x)
    {
        if (!bn.training || bn.running_mean is null || bn.running_var is null)
            return bn.call(x);
        double factor = bn.momentum ?? 0.0;
        if (bn.num_batches_tracked is { } n)
        {
            using (no_grad()) n.add_(Scalars.One, Scalars.One);
            // momentum=null means a cumulative average over the batches seen (PyTorch's rule).
            if (bn.momentum is null) factor = 1.0 / n.item<long>();
        }
        if (Overrides.TryGetValue(bn, out var forward)) return forward(bn, x, factor);
        return functional.batch_norm(x, bn.running_mean, bn.running_var, bn.weight, bn.bias, training: true,
            momentum: factor, eps: bn.eps);
    }

    sealed class Restore(BatchNorm2d bn) : IDisposable
    {
        public void Dispose() => Overrides.Remove(bn);
    }
}
