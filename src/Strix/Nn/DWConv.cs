namespace Strix.Nn;

/// <summary>
/// Depth-wise convolution: a <see cref="Conv"/> with gcd(c1, c2) groups, so each output channel sees only
/// its own input channels (YOLO11's class branch and attention position encoding use it).
/// </summary>
public sealed class DWConv : Conv
{
    public DWConv(int c1, int c2, int k = 1, int s = 1, int d = 1, bool act = true)
        : base(nameof(DWConv), c1, c2, k, s, Gcd(c1, c2), act, null, d) { }

    static int Gcd(int a, int b) { while (b != 0) (a, b) = (b, a % b); return a; }
}
