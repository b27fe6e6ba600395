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
/// type", seen crashing the quick-start run in its first epoch; see <see cref="Strix.Scalars"/>). Here the
/// count uses held Scalars and the normalisation is the same functional call. Eval mode, and layers whose
/// hooks must run (synchronised batch norm), still go through the module.
/// </summary>
public static class SafeBatchNorm
{
    static readonly ConditionalWeakTable<BatchNorm2d, object> ModuleCallRequired = new();

    /// <summary>Routes <paramref name="bn"/> through its module call (so its forward hooks run) until released.</summary>
    public static void RequireModuleCall(BatchNorm2d bn) => ModuleCallRequired.AddOrUpdate(bn, bn);

    public static void Release(BatchNorm2d bn) => ModuleCallRequired.Remove(bn);

    public static Tensor Forward(BatchNorm2d bn, Tensor x)
    {
        if (!bn.training || ModuleCallRequired.TryGetValue(bn, out _) || bn.running_mean is null || bn.running_var is null)
            return bn.call(x);
        double factor = bn.momentum ?? 0.0;
        if (bn.num_batches_tracked is { } n)
        {
            using (no_grad()) n.add_(Scalars.One, Scalars.One);
            // momentum=None means a cumulative average over the batches seen (PyTorch's rule).
            if (bn.momentum is null) factor = 1.0 / n.item<long>();
        }
        return functional.batch_norm(x, bn.running_mean, bn.running_var, bn.weight, bn.bias, training: true,
            momentum: factor, eps: bn.eps);
    }
}
