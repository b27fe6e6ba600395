namespace Strix.Data;

/// <summary>Horizontal and vertical flips of an image and its boxes (in place).</summary>
public static class RandomFlip
{
    /// <summary>Mirrors left-right: pixel columns reversed, box x → width − x.</summary>
    public static void Horizontal(RgbImage img, Instances labels)
    {
        int w = img.Width, h = img.Height;
        var p = img.Pixels;
        for (int y = 0; y < h; y++)
        {
            int row = y * w * 3;
            for (int l = 0, r = w - 1; l < r; l++, r--)
            {
                int a = row + l * 3, b = row + r * 3;
                (p[a], p[b]) = (p[b], p[a]);
                (p[a + 1], p[b + 1]) = (p[b + 1], p[a + 1]);
                (p[a + 2], p[b + 2]) = (p[b + 2], p[a + 2]);
            }
        }
        var x = labels.Xyxy;
        for (int i = 0; i < x.Length; i += 4) (x[i], x[i + 2]) = (w - x[i + 2], w - x[i]);
    }

    /// <summary>Mirrors up-down: rows reversed, box y → height − y.</summary>
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
    }

    /// <summary>Flips with Ultralytics' probabilities (<c>flipud</c> first, then <c>fliplr</c>).</summary>
    public static void Apply(RgbImage img, Instances labels, double flipUd, double flipLr, SampleRandom rng)
    {
        if (rng.Chance(flipUd)) Vertical(img, labels);
        if (rng.Chance(flipLr)) Horizontal(img, labels);
    }
}
