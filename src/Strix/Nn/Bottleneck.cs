using Strix.Runtime;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Strix.Nn;

/// <summary>
/// Two convolutions (k1×k1 to a hidden width c2·e, then k2×k2 back to c2) with an optional residual,
/// used when shortcut is on and the channels match.
/// </summary>
public sealed class Bottleneck : Module<Tensor, Tensor>
{
    public Conv cv1, cv2;
    readonly bool _add;

    public Bottleneck(int c1, int c2, bool shortcut = true, int g = 1, double e = 0.5, int k1 = 3, int k2 = 3) : base(nameof(Bottleneck))
    {
        int c = (int)(c2 * e);
        cv1 = new Conv(c1, c, k1, 1);
        cv2 = new Conv(c, c2, k2, 1, g);
        _add = shortcut && c1 == c2;
        RegisterComponents();
    }

    /// <summary>True when the input is added to the output (shortcut on and channels match).</summary>
    public bool HasShortcut => _add;

    public override Tensor forward(Tensor x)
    {
        using var h = cv1.call(x);
        var y = cv2.call(h);
        if (!_add) return y;
        var r = x.add(y, Scalars.One); // not `x + y`: its implicit alpha Scalar can be freed mid-op (see Strix.Runtime.Scalars)
        y.Dispose();
        return r;
    }
}
