using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Strix.Nn;

/// <summary>
/// CSP bottleneck with three convolutions (YOLOv5's block): cv1 feeds n bottlenecks, cv2 is a bypass,
/// cv3 fuses the two. The bottlenecks use 1×1 then 3×3 kernels (<see cref="C3k"/> chooses its own).
/// </summary>
public class C3 : Module<Tensor, Tensor>
{
    public Conv cv1, cv2, cv3;
    public ModuleList<Bottleneck> m;

    public C3(int c1, int c2, int n = 1, bool shortcut = true, int g = 1, double e = 0.5)
        : this(nameof(C3), c1, c2, n, shortcut, g, e, 1, 3) { }

    protected C3(string name, int c1, int c2, int n, bool shortcut, int g, double e, int k1, int k2) : base(name)
    {
        int c = (int)(c2 * e);
        cv1 = new Conv(c1, c, 1, 1);
        cv2 = new Conv(c1, c, 1, 1);
        cv3 = new Conv(2 * c, c2, 1);
        m = new ModuleList<Bottleneck>(Enumerable.Range(0, n).Select(_ => new Bottleneck(c, c, shortcut, g, e: 1.0, k1: k1, k2: k2)).ToArray());
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = cv1.call(x);
        foreach (var b in m) y = b.call(y);
        return cv3.call(cat(new[] { y, cv2.call(x) }, 1)).MoveToOuterDisposeScope();
    }
}

/// <summary>A <see cref="C3"/> whose bottlenecks use k×k kernels in both convolutions (inside YOLO11's C3k2).</summary>
public sealed class C3k : C3
{
    public C3k(int c1, int c2, int n = 1, bool shortcut = true, int g = 1, double e = 0.5, int k = 3)
        : base(nameof(C3k), c1, c2, n, shortcut, g, e, k, k) { }
}
