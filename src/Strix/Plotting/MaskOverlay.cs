using SkiaSharp;
using Strix.Data;

namespace Strix.Plotting;

/// <summary>Instance masks painted over a picture in translucent class colours (Ultralytics' look: half colour, half image).</summary>
public static class MaskOverlay
{
    /// <summary>Blends <paramref name="color"/> into <paramref name="image"/> where <paramref name="mask"/> (row-major, the image's size) is non-zero.</summary>
    public static void Blend(RgbImage image, ReadOnlySpan<byte> mask, SKColor color, float alpha = 0.5f)
    {
        if (mask.Length != image.Width * image.Height)
            throw new ArgumentException($"a {image.Width}×{image.Height} image needs a mask of {image.Width * image.Height} values, got {mask.Length}", nameof(mask));
        var px = image.Pixels;
        float keep = 1 - alpha;
        float r = color.Red * alpha, g = color.Green * alpha, b = color.Blue * alpha;
        for (int i = 0; i < mask.Length; i++)
        {
            if (mask[i] == 0) continue;
            int o = 3 * i;
            px[o] = (byte)(px[o] * keep + r + 0.5f);
            px[o + 1] = (byte)(px[o + 1] * keep + g + 0.5f);
            px[o + 2] = (byte)(px[o + 2] * keep + b + 0.5f);
        }
    }
}
