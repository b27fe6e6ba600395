using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Strix.Distributed;

/// <summary>
/// Synchronised batch norm: in training mode every BatchNorm2d normalises with the mean and variance
/// of the whole global batch (all ranks), not only this rank's share — useful when the per-rank batch is
/// small. Implemented with forward hooks, so any model's BatchNorm2d layers take part without
/// replacing modules: per channel, sum, sum of squares and count travel in one all-reduce (float64),
/// the output is recomputed from the global statistics, and the running statistics are corrected to
/// the global ones. The all-reduce is differentiable (its backward all-reduces the gradient), so
/// gradients equal one process on the global batch. Costs one small all-reduce per layer in forward
/// and in backward, plus the layer's own (discarded) local computation. Eval mode is untouched.
/// </summary>
public static class SyncBatchNorm
{
    /// <summary>Hooks every BatchNorm2d of <paramref name="model"/>; dispose the result to restore local batch norm.</summary>
    public static IDisposable Apply(Module model, IProcessGroup group)
    {
        var removers = new List<Action>();
        if (group.WorldSize > 1)
            foreach (var bn in model.modules().OfType<BatchNorm2d>())
            {
                var saved = new SavedStats();
                // Before the layer moves its running statistics toward the local batch, keep the old ones.
                var pre = bn.register_forward_pre_hook((m, input) => { saved.Capture((BatchNorm2d)m); return input; });
                var post = bn.register_forward_hook((m, input, output) => Synchronise((BatchNorm2d)m, input, output, group, saved));
                Strix.Nn.SafeBatchNorm.RequireModuleCall(bn); // the hooks only run through the module call
                removers.Add(pre.remove);
                removers.Add(post.remove);
                var layer = bn;
                removers.Add(() => Strix.Nn.SafeBatchNorm.Release(layer));
            }
        return new Removal(removers);
    }

    sealed class SavedStats
    {
        public Tensor? Mean, Var;
        public void Capture(BatchNorm2d bn)
        {
            Mean?.Dispose(); Var?.Dispose();
            Mean = Var = null;
            if (!bn.training || bn.running_mean is null || bn.running_var is null) return;
            using (no_grad())
            {
                Mean = bn.running_mean.clone().DetachFromDisposeScope();
                Var = bn.running_var.clone().DetachFromDisposeScope();
            }
        }
    }

    static Tensor Synchronise(BatchNorm2d bn, Tensor x, Tensor localOutput, IProcessGroup group, SavedStats saved)
    {
        if (!bn.training) return localOutput;
        using var scope = NewDisposeScope();
        long c = x.shape[1];
        long localCount = x.numel() / c;
        var x64 = x.to(ScalarType.Float64);
        var dims = new long[] { 0, 2, 3 };
        var sum = x64.sum(dims);
        var sumsq = x64.pow(2).sum(dims);
        var stats = cat(new[] { sum, sumsq, full(1, (double)localCount, ScalarType.Float64, x.device) }, 0);
        var global = AllReduceSumFunction.Apply(stats, group);
        var n = global[2 * c];
        var mean = global.narrow(0, 0, c) / n;
        var varBiased = (global.narrow(0, c, c) / n - mean.pow(2)).clamp_min(0);
        var shape = new long[] { 1, c, 1, 1 };
        var y = (x64 - mean.view(shape)) * (varBiased + bn.eps).rsqrt().view(shape);
        if (bn.weight is not null) y = y * bn.weight.to(ScalarType.Float64).view(shape);
        if (bn.bias is not null) y = y + bn.bias.to(ScalarType.Float64).view(shape);

        // The layer moved its running statistics toward the local batch; set them from the global one
        // instead, from the values saved before the layer ran (bit-identical on every rank).
        if (bn.track_running_stats && saved.Mean is not null && saved.Var is not null)
            using (no_grad())
            {
                double m = bn.momentum ?? 1.0 / Math.Max(1, bn.num_batches_tracked!.ToInt64()); // null: cumulative average
                double total = n.ToDouble();
                var globalVar = varBiased * (total / Math.Max(1.0, total - 1)); // running_var is unbiased
                bn.running_mean!.copy_(saved.Mean * (1 - m) + mean.to(saved.Mean.dtype) * m);
                bn.running_var!.copy_(saved.Var * (1 - m) + globalVar.to(saved.Var.dtype) * m);
            }
        return y.to(x.dtype).MoveToOuterDisposeScope();
    }

    sealed class Removal(List<Action> removers) : IDisposable
    {
        public void Dispose() { foreach (var r in removers) r(); removers.Clear(); }
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
        var result = input.detach().clone();
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
