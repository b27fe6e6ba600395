namespace Strix.Nn;

/// <summary>
/// YOLO11's C2f variant: the same split-and-keep wiring, with either plain bottlenecks (hidden width halved)
/// or, when <c>c3k</c> is on (the m/l/x scales), small <see cref="C3k"/> blocks of two bottlenecks each.
/// </summary>
public sealed class C3k2 : C2f
{
    public C3k2(int c1, int c2, int n = 1, bool c3k = false, double e = 0.5, int g = 1, bool shortcut = true)
        : base(nameof(C3k2), c1, c2, n, e, c => c3k ? new C3k(c, c, 2, shortcut, g) : new Bottleneck(c, c, shortcut, g))
    {
        UsesC3k = c3k;
    }

    /// <summary>True when the blocks are C3k (m/l/x scales), false for plain bottlenecks.</summary>
    public bool UsesC3k { get; }
}
