using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Strix.Nn;

/// <summary>
/// CSP bottleneck with two convolutions, YOLOv8's workhorse: split cv1's output in two halves,
/// run n blocks on the second half, keep every intermediate, concatenate, fuse with cv2.
/// </summary>
public class C2f : Module<Tensor, Tensor>
{
    public Conv cv1, cv2;
    public ModuleList<Module<Tensor, Tensor>> m;
    /// <summary>Hidden width: each half of cv1's output.</summary>
    public int Hidden { get; }

    public C2f(int c1, int c2, int n = 1, bool shortcut = false, int g = 1, double e = 0.5)
        : this(nameof(C2f), c1, c2, n, e, c => new Bottleneck(c, c, shortcut, g, e: 1.0)) { }

    /// <summary>For variants that keep the C2f wiring and change the block (C3k2).</summary>
    protected C2f(string name, int c1, int c2, int n, double e, Func<int, Module<Tensor, Tensor>> block) : base(name)
    {
        Hidden = (int)(c2 * e);
        cv1 = new Conv(c1, 2 * Hidden, 1, 1);
        cv2 = new Conv((2 + n) * Hidden, c2, 1);
        m = new ModuleList<Module<Tensor, Tensor>>(Enumerable.Range(0, n).Select(_ => block(Hidden)).ToArray());
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
