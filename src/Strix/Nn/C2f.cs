using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Strix.Nn;

/// <summary>
/// CSP bottleneck with two convolutions, YOLOv8's workhorse: split cv1's output in two halves,
/// run n Bottlenecks on the second half, keep every intermediate, concatenate, fuse with cv2.
/// </summary>
public sealed class C2f : Module<Tensor, Tensor>
{
    public Conv cv1, cv2;
    public ModuleList<Bottleneck> m;
    readonly int _c;

    public C2f(int c1, int c2, int n = 1, bool shortcut = false, int g = 1, double e = 0.5) : base(nameof(C2f))
    {
        _c = (int)(c2 * e);
        cv1 = new Conv(c1, 2 * _c, 1, 1);
        cv2 = new Conv((2 + n) * _c, c2, 1);
        m = new ModuleList<Bottleneck>(Enumerable.Range(0, n).Select(_ => new Bottleneck(_c, _c, shortcut, g, e: 1.0)).ToArray());
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = new List<Tensor>(cv1.call(x).chunk(2, 1));
        foreach (var b in m) y.Add(b.call(y[^1]));
        return cv2.call(cat(y, 1)).MoveToOuterDisposeScope();
    }
}
