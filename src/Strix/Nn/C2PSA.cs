using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Strix.Nn;

/// <summary>
/// YOLO11's attention stage after SPPF: cv1 splits the map in two halves, n <see cref="PSABlock"/>s
/// (one head per 64 channels) refine the second, cv2 fuses both back to c channels.
/// </summary>
public sealed class C2PSA : Module<Tensor, Tensor>
{
    public Conv cv1, cv2;
    public ModuleList<PSABlock> m;
    public int Hidden { get; }

    public C2PSA(int c1, int c2, int n = 1, double e = 0.5) : base(nameof(C2PSA))
    {
        if (c1 != c2) throw new ArgumentException($"C2PSA keeps its width: input {c1} and output {c2} channels must be equal");
        Hidden = (int)(c1 * e);
        cv1 = new Conv(c1, 2 * Hidden, 1, 1);
        cv2 = new Conv(2 * Hidden, c1, 1);
        m = new ModuleList<PSABlock>(Enumerable.Range(0, n).Select(_ => new PSABlock(Hidden, 0.5, Math.Max(Hidden / 64, 1))).ToArray());
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var halves = cv1.call(x).split(new long[] { Hidden, Hidden }, 1);
        var b = halves[1];
        foreach (var block in m) b = block.call(b);
        return cv2.call(cat(new[] { halves[0], b }, 1)).MoveToOuterDisposeScope();
    }
}
