using Strix.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using Strix.Nn;

namespace Strix.Distributed;

/// <summary>
/// Synchronised batch norm: in training mode every BatchNorm2d normalises with the mean and variance
/// of the whole global batch (all ranks), not only this rank's share — useful when the per-rank batch is
/// small. It replaces the training computation of each layer run through <see cref="SafeBatchNorm"/>
/// (every Strix layer), so no module is swapped: per channel, sum, sum of squares and count travel in
/// one all-reduce (float64), the output is computed from the global statistics, and the running
/// statistics move toward the global ones. The all-reduce is differentiable (its backward all-reduces
/// the gradient), so gradients equal one process on the global batch. Costs one small all-reduce per
/// layer in forward and in backward. Eval mode is untouched. A custom module that calls a
/// <c>BatchNorm2d</c> directly, not through <see cref="SafeBatchNorm.Forward"/>, keeps local statistics.
/// </summary>
public static class SyncBatchNorm
{
    /// <summary>Synchronises every BatchNorm2d of <paramref name="model"/>; dispose the result to restore local batch norm.</summary>
    public static IDisposable Apply(Module model, IProcessGroup group)
    {
        var restores = new List<IDisposable>();
        if (group.WorldSize > 1)
            foreach (var bn in model.modules().OfType<BatchNorm2d>())
                restores.Add(SafeBatchNorm.OverrideTraining(bn, (layer, x, momentum) => Synchronise(layer, x, momentum, group)));
        return new Removal(restores);
    }

    static Tensor Synchronise(BatchNorm2d bn, Tensor x, double momentum, IProcessGroup group)
    {
        using var scope = NewDisposeScope();
        long c = x.shape[1];
        long localCount = x.numel() / c;
        var x64 = x.to(ScalarType.Float64);
        var dims = new long[] { 0, 2, 3 };
        var sum = x64.sum(dims);
        var sumsq = (x64 * x64).sum(dims);
        using var count = ((double)localCount).ToScalar();
        var stats = cat(new[] { sum, sumsq, full(1, count, ScalarType.Float64, x.device) }, 0);
        var global = AllReduceSumFunction.Apply(stats, group);
        var n = global[2 * c];
        var mean = global.narrow(0, 0, c) / n;
        var varBiased = (global.narrow(0, c, c) / n - mean * mean).clamp_min(Scalars.Zero);
        var shape = new long[] { 1, c, 1, 1 };
        var y = (x64 - mean.view(shape)) * varBiased.Plus(bn.eps).rsqrt().view(shape);
        if (bn.weight is not null) y = y * bn.weight.to(ScalarType.Float64).view(shape);
        if (bn.bias is not null) y = y.Plus(bn.bias.to(ScalarType.Float64).view(shape));

        // Running statistics move toward the global batch's (bit-identical on every rank).
        using (no_grad())
        {
            double total = n.ToDouble();
            var globalVar = varBiased.Times(total / Math.Max(1.0, total - 1)); // running_var is unbiased
            using var keep = (1 - momentum).ToScalar();
            using var take = momentum.ToScalar();
            bn.running_mean!.mul_(keep).add_(mean.to(bn.running_mean.dtype), take);
            bn.running_var!.mul_(keep).add_(globalVar.to(bn.running_var.dtype), take);
        }
        return y.to(x.dtype).MoveToOuterDisposeScope();
    }

    sealed class Removal(List<IDisposable> restores) : IDisposable
    {
        public void Dispose() { foreach (var r in restores) r.Dispose(); restores.Clear(); }
    }
}

/// <summary>All-reduce (sum) as an autograd function: forward sums over ranks, backward sums the incoming gradient over ranks.</summary>
public sealed class AllReduceSumFunction : autograd.SingleTensorFunction<AllReduceSumFunction>
{
    public override string Name => "AllReduceSum";

    /// <summary>Sum of <paramref name="input"/> over the ranks of <paramref name="group"/>, differentiable.</summary>
    public static Tensor Apply(Tensor input, IProcessGroup group) => apply(input, group);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var input = (Tensor)vars[0];
        var group = (IProcessGroup)vars[1];
        ctx.save_data("group", group);
        using var detached = input.detach();
        var result = detached.clone();
        group.AllReduceSum(result);
        return result;
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
    {
        var group = (IProcessGroup)ctx.get_data("group");
        var grad = gradOutput.clone();
        group.AllReduceSum(grad);
        return new List<Tensor> { grad, null! }; // one entry per forward argument; the group has no gradient
    }
}
