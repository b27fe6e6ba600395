namespace Strix.Data;

/// <summary>Pixel-level operations on <see cref="RgbImage"/> used by letterboxing and augmentation.</summary>
public static class ImageOps
{
    /// <summary>
    /// Bilinear resize with half-pixel centres (the convention of OpenCV's INTER_LINEAR, which
    /// YOLO models are trained with). Fixed-point weights keep it fast and bit-reproducible.
    /// </summary>
    public static unsafe RgbImage ResizeBilinear(RgbImage src, int width, int height)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"target size {width}x{height}");
        if (width == src.Width && height == src.Height) return src.Clone();
        const int Shift = 11, One = 1 << Shift;
        int sw = src.Width, sh = src.Height;
        var xs0 = new int[width]; var xw = new int[width];
        double scaleX = (double)sw / width, scaleY = (double)sh / height;
        for (int x = 0; x < width; x++)
        {
            double fx = (x + 0.5) * scaleX - 0.5;
            int ix = (int)Math.Floor(fx);
            double t = fx - ix;
            if (ix < 0) { ix = 0; t = 0; }
            if (ix >= sw - 1) { ix = sw - 1; t = 0; }
            xs0[x] = ix; xw[x] = (int)Math.Round(t * One);
        }
        var dst = new byte[width * height * 3];
        fixed (byte* s = src.Pixels)
        fixed (byte* d = dst)
        fixed (int* px0 = xs0)
        fixed (int* pxw = xw)
        {
            for (int y = 0; y < height; y++)
            {
                double fy = (y + 0.5) * scaleY - 0.5;
                int iy = (int)Math.Floor(fy);
                double ty = fy - iy;
                if (iy < 0) { iy = 0; ty = 0; }
                if (iy >= sh - 1) { iy = sh - 1; ty = 0; }
                int wy = (int)Math.Round(ty * One);
                byte* r0 = s + (long)iy * sw * 3;
                byte* r1 = s + (long)Math.Min(iy + 1, sh - 1) * sw * 3;
                byte* o = d + (long)y * width * 3;
                for (int x = 0; x < width; x++)
                {
                    int x0 = px0[x] * 3, x1 = Math.Min(px0[x] + 1, sw - 1) * 3, wx = pxw[x];
                    for (int c = 0; c < 3; c++)
                    {
                        int top = r0[x0 + c] * (One - wx) + r0[x1 + c] * wx;
                        int bot = r1[x0 + c] * (One - wx) + r1[x1 + c] * wx;
                        long v = ((long)top * (One - wy) + (long)bot * wy + (1L << (2 * Shift - 1))) >> (2 * Shift);
                        o[x * 3 + c] = (byte)v;
                    }
                }
            }
        }
        return new RgbImage(width, height, dst);
    }

    /// <summary>Copies <paramref name="src"/> into <paramref name="dst"/> at (left, top); parts outside are clipped.</summary>
    public static void Paste(RgbImage src, RgbImage dst, int left, int top)
    {
        int x0 = Math.Max(0, left), y0 = Math.Max(0, top);
        int x1 = Math.Min(dst.Width, left + src.Width), y1 = Math.Min(dst.Height, top + src.Height);
        if (x1 <= x0 || y1 <= y0) return;
        int bytes = (x1 - x0) * 3;
        for (int y = y0; y < y1; y++)
        {
            Buffer.BlockCopy(src.Pixels, ((y - top) * src.Width + (x0 - left)) * 3, dst.Pixels, (y * dst.Width + x0) * 3, bytes);
        }
    }
}
