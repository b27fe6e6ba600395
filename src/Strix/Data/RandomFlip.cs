using Strix.Runtime;
namespace Strix.Data;

/// <summary>Horizontal and vertical flips of an image and its boxes, polygons and keypoints (in place).</summary>
public static class RandomFlip
{
    /// <summary>Mirrors left-right: pixel columns reversed, box and polygon x → width − x.</summary>
    public static unsafe void Horizontal(RgbImage img, Instances labels, int[]? flipIdx = null)
    {
        int w = img.Width, h = img.Height, stride = w * 3;
        fixed (byte* p0 = img.Pixels)
        {
            for (int y = 0; y < h; y++)
            {
                byte* l = p0 + (long)y * stride, r = l + stride - 3;
                for (; l < r; l += 3, r -= 3)
                {
                    byte a0 = l[0], a1 = l[1], a2 = l[2];
                    l[0] = r[0]; l[1] = r[1]; l[2] = r[2];
                    r[0] = a0; r[1] = a1; r[2] = a2;
                }
            }
        }
        var x = labels.Xyxy;
        for (int i = 0; i < x.Length; i += 4) (x[i], x[i + 2]) = (w - x[i + 2], w - x[i]);
        foreach (var s in labels.Segments ?? Array.Empty<float[]>())
            for (int i = 0; i < s.Length; i += 2) s[i] = w - s[i];
        // Pose: x → w − x, and left and right swap names (a left wrist becomes the right one): flip_idx gives, for each
        // keypoint, the one whose place it takes.
        foreach (var k in labels.Keypoints ?? Array.Empty<float[]>())
        {
            for (int i = 0; i < k.Length; i += 3) k[i] = w - k[i];
            if (flipIdx is null) continue;
            var copy = (float[])k.Clone();
            for (int j = 0; j < flipIdx.Length; j++) Array.Copy(copy, flipIdx[j] * 3, k, j * 3, 3);
        }
    }

    /// <summary>Mirrors up-down: rows reversed, box and polygon y → height − y.</summary>
    public static void Vertical(RgbImage img, Instances labels)
    {
        int w = img.Width, h = img.Height, stride = w * 3;
        var p = img.Pixels;
        var tmp = new byte[stride];
        for (int t = 0, b = h - 1; t < b; t++, b--)
        {
            Buffer.BlockCopy(p, t * stride, tmp, 0, stride);
            Buffer.BlockCopy(p, b * stride, p, t * stride, stride);
            Buffer.BlockCopy(tmp, 0, p, b * stride, stride);
        }
        var x = labels.Xyxy;
        for (int i = 0; i < x.Length; i += 4) (x[i + 1], x[i + 3]) = (h - x[i + 3], h - x[i + 1]);
        foreach (var s in labels.Segments ?? Array.Empty<float[]>())
            for (int i = 1; i < s.Length; i += 2) s[i] = h - s[i];
        foreach (var k in labels.Keypoints ?? Array.Empty<float[]>())
            for (int i = 1; i < k.Length; i += 3) k[i] = h - k[i];
    }

    /// <summary>Flips with Ultralytics' probabilities (<c>flipud</c> first, then <c>fliplr</c>).</summary>
    public static void Apply(RgbImage img, Instances labels, double flipUd, double flipLr, StrixRandom rng, int[]? flipIdx = null)
    {
        if (rng.Chance(flipUd)) Vertical(img, labels);
        if (rng.Chance(flipLr)) Horizontal(img, labels, flipIdx);
    }
}
