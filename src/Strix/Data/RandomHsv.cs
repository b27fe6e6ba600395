using Strix.Runtime;
namespace Strix.Data;

/// <summary>
/// YOLO's colour jitter: random gains for hue, saturation and value applied through 256-entry lookup
/// tables in OpenCV's 8-bit HSV space (H in 0–179, S and V in 0–255), in place.
/// </summary>
public static class RandomHsv
{
    /// <summary>Draws gains 1 + U(−1, 1)·(hgain, sgain, vgain) and applies them.</summary>
    public static void Apply(RgbImage img, double hgain, double sgain, double vgain, StrixRandom rng)
    {
        if (hgain == 0 && sgain == 0 && vgain == 0) return;
        double rh = rng.Uniform(-1, 1) * hgain + 1, rs = rng.Uniform(-1, 1) * sgain + 1, rv = rng.Uniform(-1, 1) * vgain + 1;
        ApplyGains(img, rh, rs, rv);
    }

    // Reciprocal tables so the per-pixel conversion needs no division (OpenCV's 8-bit approach).
    const int Shift = 12;
    static readonly int[] SatDiv = Enumerable.Range(0, 256).Select(v => v == 0 ? 0 : (int)Math.Round(255.0 * (1 << Shift) / v)).ToArray();
    static readonly int[] HueDiv = Enumerable.Range(0, 256).Select(d => d == 0 ? 0 : (int)Math.Round(30.0 * (1 << Shift) / d)).ToArray();

    /// <summary>Applies fixed gains: H → (H·rh) mod 180, S → clip(S·rs), V → clip(V·rv).</summary>
    public static unsafe void ApplyGains(RgbImage img, double rh, double rs, double rv)
    {
        var lutH = new byte[256]; var lutS = new byte[256]; var lutV = new byte[256];
        for (int x = 0; x < 256; x++)
        {
            lutH[x] = (byte)(((int)(x * rh) % 180 + 180) % 180);
            lutS[x] = (byte)Math.Clamp((int)(x * rs), 0, 255);
            lutV[x] = (byte)Math.Clamp((int)(x * rv), 0, 255);
        }
        // Hue → (sector, fraction·4096) for the way back.
        var sector = new byte[180]; var frac = new int[180];
        for (int h = 0; h < 180; h++) { sector[h] = (byte)(h / 30); frac[h] = (h % 30) * (1 << Shift) / 30; }
        int n = img.Width * img.Height;
        const float Inv = 1f / (255f * (1 << Shift));
        fixed (byte* p0 = img.Pixels)
        fixed (byte* lh = lutH)
        fixed (byte* ls = lutS)
        fixed (byte* lv = lutV)
        fixed (int* sd = SatDiv)
        fixed (int* hd = HueDiv)
        fixed (byte* sec = sector)
        fixed (int* fr = frac)
        {
            byte* p = p0;
            for (int i = 0; i < n; i++, p += 3)
            {
                int r = p[0], g = p[1], b = p[2];
                int v = Math.Max(r, Math.Max(g, b)), mn = Math.Min(r, Math.Min(g, b));
                int diff = v - mn;
                int s = (diff * sd[v] + (1 << (Shift - 1))) >> Shift;
                int h = 0;
                if (diff != 0)
                {
                    // Hue in OpenCV's 8-bit units (0–179: half-degrees), rounded.
                    int num = v == r ? g - b : v == g ? b - r : r - g;
                    int baseH = v == r ? 0 : v == g ? 60 : 120;
                    h = baseH + ((num * hd[diff] + (1 << (Shift - 1))) >> Shift);
                    if (h < 0) h += 180; else if (h >= 180) h -= 180;
                }
                int h2 = lh[h], s2 = ls[s], v2 = lv[v];
                if (s2 == 0) { p[0] = p[1] = p[2] = (byte)v2; continue; }
                // Back to RGB: p = v(1−s), q = v(1−s·f), t = v(1−s(1−f)), in fixed point.
                int f = fr[h2];
                const int One = 255 << Shift;
                float vf = v2 * Inv;
                byte pv = (byte)(vf * (One - (s2 << Shift)) + 0.5f);
                byte qv = (byte)(vf * (One - s2 * f) + 0.5f);
                byte tv = (byte)(vf * (One - s2 * ((1 << Shift) - f)) + 0.5f);
                byte vv = (byte)v2;
                switch (sec[h2])
                {
                    case 0: p[0] = vv; p[1] = tv; p[2] = pv; break;
                    case 1: p[0] = qv; p[1] = vv; p[2] = pv; break;
                    case 2: p[0] = pv; p[1] = vv; p[2] = tv; break;
                    case 3: p[0] = pv; p[1] = qv; p[2] = vv; break;
                    case 4: p[0] = tv; p[1] = pv; p[2] = vv; break;
                    default: p[0] = vv; p[1] = pv; p[2] = qv; break;
                }
            }
        }
    }
}
