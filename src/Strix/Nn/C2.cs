using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Strix.Nn;

/// <summary>
/// CSP bottleneck with two convolutions, the plain form (yolov8-p6's head): cv1's output is split in two,
/// n bottlenecks run on the first half, the second half bypasses them, cv2 fuses both.
/// </summary>
public sealed class C2 : Module<Tensor, Tensor>
{
    public Conv cv1, cv2;
    public ModuleList<Bottleneck> m;

    public C2(int c1, int c2, int n = 1, bool shortcut = true, int g = 1, double e = 0.5) : base(nameof(C2))
    {
        int c = (int)(c2 * e);
        cv1 = new Conv(c1, 2 * c, 1, 1);
        cv2 = new Conv(2 * c, c2, 1);
        m = new ModuleList<Bottleneck>(Enumerable.Range(0, n).Select(_ => new Bottleneck(c, c, shortcut, g, e: 1.0)).ToArray());
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var halves = cv1.call(x).chunk(2, 1);
        var a = halves[0];
        foreach (var b in m) a = b.call(a);
        return cv2.call(cat(new[] { a, halves[1] }, 1)).MoveToOuterDisposeScope();
    }
}
