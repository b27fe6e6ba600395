using Strix.Runtime;

namespace Strix.Data;

/// <summary>The operations <see cref="RandAugment"/> draws from (torchvision's set, in its order).</summary>
public enum RandAugmentOp
{
    Identity, ShearX, ShearY, TranslateX, TranslateY, Rotate, Brightness, Color, Contrast, Sharpness, Posterize, Solarize, AutoContrast, Equalize,
}

/// <summary>
/// RandAugment (Cubuk et al., 2019) as torchvision defines it and Ultralytics applies it to classification training
/// (<c>auto_augment=randaugment</c>, its default): <see cref="DefaultOps"/> operations drawn uniformly from 14, each at
/// magnitude bin <see cref="DefaultMagnitude"/> of <see cref="Bins"/>, the geometric and enhancement ones with a random
/// sign. Geometric operations fill uncovered pixels with black. One search-free policy instead of a learnt one: two
/// numbers, the same strength for every operation.
/// </summary>
public static class RandAugment
{
    public const int DefaultOps = 2, DefaultMagnitude = 9, Bins = 31;
    static readonly int OpCount = Enum.GetValues<RandAugmentOp>().Length;

    /// <summary>Applies <paramref name="numOps"/> random operations in turn; returns the result (possibly <paramref name="img"/> itself, changed in place).</summary>
    public static RgbImage Apply(RgbImage img, StrixRandom rng, int numOps = DefaultOps, int magnitude = DefaultMagnitude)
    {
        if (magnitude < 0 || magnitude >= Bins) throw new ArgumentOutOfRangeException(nameof(magnitude), $"magnitude {magnitude} is outside 0..{Bins - 1}");
        for (int i = 0; i < numOps; i++)
        {
            var op = (RandAugmentOp)rng.NextInt(OpCount);
            double m = Magnitude(op, magnitude, img.Width, img.Height);
            if (IsSigned(op) && rng.Chance(0.5)) m = -m;
            img = ApplyOp(img, op, m);
        }
        return img;
    }

    /// <summary>Whether torchvision flips the operation's magnitude at random.</summary>
    public static bool IsSigned(RandAugmentOp op) => op is >= RandAugmentOp.ShearX and <= RandAugmentOp.Sharpness;

    /// <summary>
    /// torchvision's magnitude of <paramref name="op"/> at <paramref name="bin"/> of 31: shear 0–0.3, translation 0–150/331
    /// of the side (whole pixels), rotation 0–30°, enhancement factors 1 ± 0–0.9, posterize 8–4 bits, solarize 255–0.
    /// </summary>
    public static double Magnitude(RandAugmentOp op, int bin, int width, int height)
    {
        double t = bin / (double)(Bins - 1);
        return op switch
        {
            RandAugmentOp.ShearX or RandAugmentOp.ShearY => 0.3 * t,
            RandAugmentOp.TranslateX => Math.Truncate(150.0 / 331.0 * width * t),
            RandAugmentOp.TranslateY => Math.Truncate(150.0 / 331.0 * height * t),
            RandAugmentOp.Rotate => 30.0 * t,
            RandAugmentOp.Brightness or RandAugmentOp.Color or RandAugmentOp.Contrast or RandAugmentOp.Sharpness => 0.9 * t,
            RandAugmentOp.Posterize => 8 - (int)Math.Round(bin / ((Bins - 1) / 4.0), MidpointRounding.ToEven),
            RandAugmentOp.Solarize => 255.0 * (1 - t),
            _ => 0,
        };
    }

    /// <summary>One operation at magnitude <paramref name="m"/> (as <see cref="Magnitude"/> gives it, sign included).</summary>
    public static RgbImage ApplyOp(RgbImage img, RandAugmentOp op, double m)
    {
        double cx = img.Width / 2.0, cy = img.Height / 2.0;
        switch (op)
        {
            case RandAugmentOp.Identity: return img;
            // Shears about the top-left corner, as torchvision's (centre [0, 0]).
            case RandAugmentOp.ShearX: return Warp(img, new double[] { 1, -m, 0, 0, 1, 0, 0, 0, 1 });
            case RandAugmentOp.ShearY: return Warp(img, new double[] { 1, 0, 0, -m, 1, 0, 0, 0, 1 });
            case RandAugmentOp.TranslateX: return Warp(img, new double[] { 1, 0, m, 0, 1, 0, 0, 0, 1 });
            case RandAugmentOp.TranslateY: return Warp(img, new double[] { 1, 0, 0, 0, 1, m, 0, 0, 1 });
            case RandAugmentOp.Rotate:
            {
                // Counter-clockwise on screen (y down) by m degrees about the centre.
                double a = m * Math.PI / 180, c = Math.Cos(a), s = Math.Sin(a);
                return Warp(img, new double[] { c, s, cx - c * cx - s * cy, -s, c, cy + s * cx - c * cy, 0, 0, 1 });
            }
            case RandAugmentOp.Brightness: Blend(img, null, 0, 1 + m); return img;
            case RandAugmentOp.Color: Blend(img, Grayscale(img), 0, 1 + m); return img;
            case RandAugmentOp.Contrast: Blend(img, null, MeanGray(img), 1 + m); return img;
            case RandAugmentOp.Sharpness: Blend(img, Smoothed(img), 0, 1 + m); return img;
            case RandAugmentOp.Posterize: Posterize(img, (int)m); return img;
            case RandAugmentOp.Solarize: Solarize(img, m); return img;
            case RandAugmentOp.AutoContrast: AutoContrast(img); return img;
            case RandAugmentOp.Equalize: Equalize(img); return img;
            default: throw new ArgumentOutOfRangeException(nameof(op), op, null);
        }
    }

    static RgbImage Warp(RgbImage img, double[] m) => AffineWarp.Warp(img, m, img.Width, img.Height, border: 0);

    static byte Clamp(double v) => v <= 0 ? (byte)0 : v >= 255 ? (byte)255 : (byte)(v + 0.5);

    /// <summary>
    /// PIL's ImageEnhance blend, in place: <c>degenerate + factor · (img − degenerate)</c>, the degenerate image
    /// given per pixel (3 bytes each) or, when null, the constant <paramref name="constant"/>.
    /// </summary>
    static void Blend(RgbImage img, byte[]? degenerate, double constant, double factor)
    {
        var p = img.Pixels;
        for (int i = 0; i < p.Length; i++)
        {
            double d = degenerate is null ? constant : degenerate[i];
            p[i] = Clamp(d + factor * (p[i] - d));
        }
    }

    /// <summary>ITU-R 601 luma of the pixel at byte <paramref name="i"/> (PIL's "L": 299/587/114, rounded).</summary>
    static int Luma(byte[] p, int i) => (p[i] * 299 + p[i + 1] * 587 + p[i + 2] * 114 + 500) / 1000;

    /// <summary>Each pixel's luma, repeated over the three channels.</summary>
    static byte[] Grayscale(RgbImage img)
    {
        var p = img.Pixels;
        var g = new byte[p.Length];
        for (int i = 0; i < p.Length; i += 3) g[i] = g[i + 1] = g[i + 2] = (byte)Luma(p, i);
        return g;
    }

    static double MeanGray(RgbImage img)
    {
        var p = img.Pixels;
        long sum = 0;
        for (int i = 0; i < p.Length; i += 3) sum += Luma(p, i);
        return Math.Round(sum / (double)(p.Length / 3));
    }

    /// <summary>PIL's SMOOTH filter (3×3, centre 5, others 1, over 13) inside the image; the border rows and columns stay.</summary>
    static byte[] Smoothed(RgbImage img)
    {
        int w = img.Width, h = img.Height;
        var p = img.Pixels;
        var o = (byte[])p.Clone();
        for (int y = 1; y < h - 1; y++)
            for (int x = 1; x < w - 1; x++)
                for (int c = 0; c < 3; c++)
                {
                    int sum = 0;
                    for (int dy = -1; dy <= 1; dy++)
                        for (int dx = -1; dx <= 1; dx++)
                            sum += p[((y + dy) * w + x + dx) * 3 + c] * (dx == 0 && dy == 0 ? 5 : 1);
                    o[(y * w + x) * 3 + c] = (byte)((sum + 6) / 13);
                }
        return o;
    }

    /// <summary>Keeps the top <paramref name="bits"/> bits of every value.</summary>
    public static void Posterize(RgbImage img, int bits)
    {
        if (bits < 0 || bits > 8) throw new ArgumentOutOfRangeException(nameof(bits), $"posterize keeps 0..8 bits, not {bits}");
        byte mask = (byte)(0xFF << (8 - bits));
        var p = img.Pixels;
        for (int i = 0; i < p.Length; i++) p[i] &= mask;
    }

    /// <summary>Inverts every value at or above <paramref name="threshold"/>.</summary>
    public static void Solarize(RgbImage img, double threshold)
    {
        var p = img.Pixels;
        for (int i = 0; i < p.Length; i++) if (p[i] >= threshold) p[i] = (byte)(255 - p[i]);
    }

    /// <summary>Stretches each channel to 0..255 (a channel of one value is left alone).</summary>
    public static void AutoContrast(RgbImage img)
    {
        var p = img.Pixels;
        for (int c = 0; c < 3; c++)
        {
            int lo = 255, hi = 0;
            for (int i = c; i < p.Length; i += 3) { lo = Math.Min(lo, p[i]); hi = Math.Max(hi, p[i]); }
            if (hi <= lo) continue;
            double scale = 255.0 / (hi - lo);
            for (int i = c; i < p.Length; i += 3) p[i] = Clamp((p[i] - lo) * scale);
        }
    }

    /// <summary>
    /// PIL's per-channel histogram equalisation: with <c>step</c> = (pixels − count of the highest value present) / 255,
    /// value v maps to (pixels below v + step / 2) / step; a channel with one value, or too few pixels for a step, stays.
    /// </summary>
    public static void Equalize(RgbImage img)
    {
        var p = img.Pixels;
        Span<int> hist = stackalloc int[256];
        Span<byte> lut = stackalloc byte[256];
        for (int c = 0; c < 3; c++)
        {
            hist.Clear();
            for (int i = c; i < p.Length; i += 3) hist[p[i]]++;
            int last = 255;
            while (last > 0 && hist[last] == 0) last--;
            int total = 0, distinct = 0;
            for (int v = 0; v < 256; v++) { total += hist[v]; if (hist[v] > 0) distinct++; }
            int step = (total - hist[last]) / 255;
            if (distinct <= 1 || step == 0) continue;
            int n = step / 2;
            for (int v = 0; v < 256; v++) { lut[v] = (byte)Math.Min(255, n / step); n += hist[v]; }
            for (int i = c; i < p.Length; i += 3) p[i] = lut[p[i]];
        }
    }
}
