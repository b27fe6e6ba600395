using Strix.Runtime;
namespace Strix.Data;

/// <summary>
/// MixUp (Zhang et al., 2018) as YOLO uses it: blend two equally sized augmented samples with a ratio
/// drawn from Beta(32, 32) (so close to ½) and keep the boxes of both.
/// </summary>
public static class MixUp
{
    public static (RgbImage Image, Instances Labels) Apply(RgbImage a, Instances la, RgbImage b, Instances lb, StrixRandom rng)
    {
        if (a.Width != b.Width || a.Height != b.Height)
            throw new ArgumentException($"mixup needs equal sizes, got {a.Width}x{a.Height} and {b.Width}x{b.Height}");
        double r = rng.Beta(32.0, 32.0);
        int wa = (int)Math.Round(r * 256);
        var pa = a.Pixels; var pb = b.Pixels;
        var o = new byte[pa.Length];
        for (int i = 0; i < o.Length; i++) o[i] = (byte)((pa[i] * wa + pb[i] * (256 - wa)) >> 8);
        return (new RgbImage(a.Width, a.Height, o), Instances.Concat(new[] { la, lb }));
    }
}
