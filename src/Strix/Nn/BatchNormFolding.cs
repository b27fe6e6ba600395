using Strix.Runtime;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Strix.Nn;

/// <summary>Batch-norm folding arithmetic shared by Conv fusion and the ONNX exporter.</summary>
public static class BatchNormFolding
{
    /// <summary>Returns the weight and bias of a convolution equivalent to conv followed by <paramref name="bn"/> in eval mode.</summary>
    public static (Tensor Weight, Tensor Bias) Fold(Tensor convWeight, Tensor? convBias, BatchNorm2d bn)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var scale = bn.weight!.div(bn.running_var!.Plus(bn.eps).sqrt());
        var w = convWeight * scale.view(-1, 1, 1, 1);
        var b0 = convBias ?? zeros_like(bn.running_mean!);
        var b = bn.bias!.Plus((b0 - bn.running_mean!) * scale);
        return (w.MoveToOuterDisposeScope(), b.MoveToOuterDisposeScope());
    }
}
