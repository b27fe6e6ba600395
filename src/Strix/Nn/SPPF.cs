using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Strix.Nn;

/// <summary>Spatial pyramid pooling, fast: one k×k max-pool applied three times in sequence.</summary>
public sealed class SPPF : Module<Tensor, Tensor>
{
    public Conv cv1, cv2;
    public MaxPool2d m;

    public SPPF(int c1, int c2, int k = 5) : base(nameof(SPPF))
    {
        int c = c1 / 2;
        cv1 = new Conv(c1, c, 1, 1);
        cv2 = new Conv(c * 4, c2, 1, 1);
        m = MaxPool2d(k, 1, k / 2);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y0 = cv1.call(x);
        var y1 = m.call(y0);
        var y2 = m.call(y1);
        var y3 = m.call(y2);
        return cv2.call(cat(new[] { y0, y1, y2, y3 }, 1)).MoveToOuterDisposeScope();
    }
}
