using Strix.Runtime;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Strix.Nn;

/// <summary>
/// Distribution Focal Loss integral: turns each side's 16-bin distribution into its expected
/// distance, as a fixed 1×1 convolution whose weights are 0..reg_max−1.
/// </summary>
public sealed class DFL : Module<Tensor, Tensor>
{
    public Conv2d conv;
    readonly int _c1;

    public DFL(int c1 = 16) : base(nameof(DFL))
    {
        _c1 = c1;
        conv = Conv2d(c1, 1, 1, bias: false);
        using (no_grad())
        using (NewDisposeScope())
            conv.weight!.copy_(HeldScalarMath.Arange(c1, ScalarType.Float32).view(1, c1, 1, 1));
        conv.weight!.requires_grad = false;
        RegisterComponents();
    }

    /// <summary>[B, 4·c1, A] → [B, 4, A] expected distances.</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], a = x.shape[2];
        var p = x.view(b, 4, _c1, a).transpose(2, 1).softmax(1);
        return conv.call(p).view(b, 4, a).MoveToOuterDisposeScope();
    }
}
