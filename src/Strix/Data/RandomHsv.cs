namespace Strix.Data;

/// <summary>
/// YOLO's colour jitter: random gains for hue, saturation and value applied through 256-entry lookup
/// tables in OpenCV's 8-bit HSV space (H in 0–179, S and V in 0–255), in place.
/// </summary>
public static class RandomHsv
{
    /// <summary>Draws gains 1 + U(−1, 1)·(hgain, sgain, vgain) and applies them.</summary>
    public static void Apply(RgbImage img, double hgain, double sgain, double vgain, SampleRandom rng)
    {
        if (hgain == 0 && sgain == 0 && vgain == 0) return;
        double rh = rng.Uniform(-1, 1) * hgain + 1, rs = rng.Uniform(-1, 1) * sgain + 1, rv = rng.Uniform(-1, 1) * vgain + 1;
        ApplyGains(img, rh, rs, rv);
    }

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
        int n = img.Width * img.Height;
        fixed (byte* p0 = img.Pixels)
        fixed (byte* lh = lutH)
        fixed (byte* ls = lutS)
        fixed (byte* lv = lutV)
        {
            byte* p = p0;
            for (int i = 0; i < n; i++, p += 3)
            {
                int r = p[0], g = p[1], b = p[2];
                int v = Math.Max(r, Math.Max(g, b)), mn = Math.Min(r, Math.Min(g, b));
                int diff = v - mn;
                int s = v == 0 ? 0 : (diff * 255 + (v >> 1)) / v;
                int h = 0;
                if (diff != 0)
                {
                    // Hue in half-degrees (OpenCV 8-bit: 0–179), rounded.
                    int num = v == r ? (g - b) : v == g ? (b - r) : (r - g);
                    int baseDeg = v == r ? 0 : v == g ? 120 : 240;
                    float hh = baseDeg + 60f * num / diff;
                    if (hh < 0) hh += 360;
                    h = (int)(hh * 0.5f + 0.5f);
                    if (h >= 180) h -= 180;
                }
                int h2 = lh[h], s2 = ls[s], v2 = lv[v];
                // Back to RGB.
                if (s2 == 0) { p[0] = p[1] = p[2] = (byte)v2; continue; }
                float hf = h2 * (1f / 30f);
                int sector = (int)hf;
                float f = hf - sector, sf = s2 * (1f / 255f);
                float pv = v2 * (1 - sf), qv = v2 * (1 - sf * f), tv = v2 * (1 - sf * (1 - f));
                float rr, gg, bb;
                switch (sector)
                {
                    case 0: rr = v2; gg = tv; bb = pv; break;
                    case 1: rr = qv; gg = v2; bb = pv; break;
                    case 2: rr = pv; gg = v2; bb = tv; break;
                    case 3: rr = pv; gg = qv; bb = v2; break;
                    case 4: rr = tv; gg = pv; bb = v2; break;
                    default: rr = v2; gg = pv; bb = qv; break;
                }
                p[0] = (byte)(rr + 0.5f); p[1] = (byte)(gg + 0.5f); p[2] = (byte)(bb + 0.5f);
            }
        }
    }
}
