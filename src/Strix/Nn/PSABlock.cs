using Strix.Runtime;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Strix.Nn;

/// <summary>
/// A transformer-style block on feature maps: x + Attention(x), then x + FFN(x), the FFN being a 1×1 conv to
/// twice the width (SiLU) and back (linear).
/// </summary>
public sealed class PSABlock : Module<Tensor, Tensor>
{
    public Attention attn;
    public Sequential ffn;
    readonly bool _add;

    public PSABlock(int c, double attnRatio = 0.5, int numHeads = 4, bool shortcut = true) : base(nameof(PSABlock))
    {
        attn = new Attention(c, numHeads, attnRatio);
        ffn = Sequential(new Conv(c, 2 * c, 1), new Conv(2 * c, c, 1, act: false));
        _add = shortcut;
        RegisterComponents();
    }

    /// <summary>True when both sub-layers are residual.</summary>
    public bool HasShortcut => _add;
    public Conv FfnExpand => (Conv)ffn[0];
    public Conv FfnProject => (Conv)ffn[1];

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var a = attn.call(x);
        var y = _add ? x.add(a, Scalars.One) : a;
        var f = FfnProject.call(FfnExpand.call(y));
        return (_add ? y.add(f, Scalars.One) : f).MoveToOuterDisposeScope();
    }
}
