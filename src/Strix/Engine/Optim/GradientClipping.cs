using Strix.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Strix.Engine.Optim;

/// <summary>Gradient-norm clipping as <c>torch.nn.utils.clip_grad_norm_</c> (2-norm over all gradients).</summary>
public static class GradientClipping
{
    /// <summary>
    /// Scales every gradient by min(1, max/(‖g‖ + 1e-6)) and returns the total norm ‖g‖ before clipping
    /// (a 0-d tensor on the gradients' device; NaN/Inf when a gradient is not finite).
    /// </summary>
    public static Tensor ClipGradNorm(IEnumerable<Parameter> parameters, double maxNorm)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var grads = parameters.Select(p => p.grad).Where(g => g is not null).Select(g => g!).ToList();
        if (grads.Count == 0) return tensor(0.0f).MoveToOuterDisposeScope();
        var total = TotalNorm(grads);
        using var eps = 1e-6.ToScalar();
        using var max = maxNorm.ToScalar();
        var coef = total.add(eps, Scalars.One).reciprocal().mul_(max).clamp_max(Scalars.One); // min(1, max/(‖g‖ + 1e-6))
        foreach (var g in grads) g.mul_(coef.to(g.dtype));
        return total.MoveToOuterDisposeScope();
    }

    /// <summary>Total 2-norm of the gradients without changing them.</summary>
    public static Tensor GradNorm(IEnumerable<Parameter> parameters)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var grads = parameters.Select(p => p.grad).Where(g => g is not null).Select(g => g!).ToList();
        if (grads.Count == 0) return tensor(0.0f).MoveToOuterDisposeScope();
        return TotalNorm(grads).MoveToOuterDisposeScope();
    }

    // Tensor.norm takes p as a float; linalg.vector_norm would build an unheld Scalar for it.
    static Tensor TotalNorm(List<Tensor> grads)
    {
        using var scope = NewDisposeScope();
        return stack(grads.Select(g => g.norm()).ToArray()).norm().MoveToOuterDisposeScope();
    }
}
