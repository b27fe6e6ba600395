using Strix.Runtime;

namespace Strix.Data;

/// <summary>The learnt-free augmentation policy of classification training (<c>auto_augment</c>).</summary>
public enum AutoAugmentPolicy { None, RandAugment }

/// <summary>
/// Ultralytics' classification transforms on <see cref="RgbImage"/>: for training a random resized crop (area
/// fraction in [1 − scale, 1], aspect ratio in [3/4, 4/3], log-uniform), flips, RandAugment (or, without it, HSV jitter) and random erasing;
/// for validation the shortest side resized to the crop size, then a centre crop. Randomness comes from the
/// caller's <see cref="StrixRandom"/>, so a sample's augmentation is a function of (seed, epoch, index).
/// </summary>
public static class ClassifyTransforms
{
    /// <summary>
    /// <c>auto_augment</c>: <c>randaugment</c> (Ultralytics' default), or <c>none</c>/empty/<c>false</c>; Ultralytics' other
    /// policies (<c>autoaugment</c>, <c>augmix</c>) are refused by name.
    /// </summary>
    public static AutoAugmentPolicy ParseAutoAugment(string? value) => (value ?? "").Trim().ToLowerInvariant() switch
    {
        "randaugment" => AutoAugmentPolicy.RandAugment,
        "" or "none" or "false" or "null" => AutoAugmentPolicy.None,
        "autoaugment" or "augmix" => throw new ArgumentException($"auto_augment={value}: not built in Strix; use randaugment (the default) or none"),
        _ => throw new ArgumentException($"auto_augment={value}: expected randaugment or none"),
    };

    /// <summary>Ultralytics' default erasing probability for classification.</summary>
    public const double DefaultErasing = 0.4;

    /// <summary>
    /// The training augmentation of one image to <paramref name="size"/>². Under <see cref="AutoAugmentPolicy.RandAugment"/>
    /// the HSV jitter is left out, as Ultralytics does (RandAugment has its own colour operations).
    /// </summary>
    public static RgbImage Train(RgbImage img, int size, AugmentationOptions hyp, double erasing, StrixRandom rng, AutoAugmentPolicy autoAugment)
    {
        var (x, y, w, h) = RandomResizedCropBox(img.Width, img.Height, 1.0 - hyp.Scale, 1.0, 3.0 / 4, 4.0 / 3, rng);
        var outImg = ImageOps.ResizeBilinear(Crop(img, x, y, w, h), size, size);
        if (rng.Chance(hyp.FlipLR)) RandomFlip.Horizontal(outImg, Instances.Empty);
        if (rng.Chance(hyp.FlipUD)) RandomFlip.Vertical(outImg, Instances.Empty);
        if (autoAugment == AutoAugmentPolicy.RandAugment) outImg = RandAugment.Apply(outImg, rng);
        else if (hyp.HsvH > 0 || hyp.HsvS > 0 || hyp.HsvV > 0) RandomHsv.Apply(outImg, hyp.HsvH, hyp.HsvS, hyp.HsvV, rng);
        if (rng.Chance(erasing)) Erase(outImg, rng);
        return outImg;
    }

    /// <summary>Validation and prediction: shortest side to <paramref name="size"/>, then the centre size × size.</summary>
    public static RgbImage CenterCrop(RgbImage img, int size)
    {
        double r = (double)size / Math.Min(img.Width, img.Height);
        int w = Math.Max(size, (int)Math.Round(img.Width * r)), h = Math.Max(size, (int)Math.Round(img.Height * r));
        var resized = ImageOps.ResizeBilinear(img, w, h);
        return Crop(resized, (w - size) / 2, (h - size) / 2, size, size);
    }

    /// <summary>
    /// torchvision's RandomResizedCrop box: up to ten tries of an area fraction in [<paramref name="minScale"/>,
    /// <paramref name="maxScale"/>] and a log-uniform aspect ratio that fit the image; otherwise the centre crop of the
    /// whole image clamped to the ratio range.
    /// </summary>
    public static (int X, int Y, int W, int H) RandomResizedCropBox(int width, int height, double minScale, double maxScale,
        double minRatio, double maxRatio, StrixRandom rng)
    {
        double area = (double)width * height;
        double logLo = Math.Log(minRatio), logHi = Math.Log(maxRatio);
        for (int attempt = 0; attempt < 10; attempt++)
        {
            double target = area * rng.Uniform(minScale, maxScale);
            double ratio = Math.Exp(rng.Uniform(logLo, logHi));
            int w = (int)Math.Round(Math.Sqrt(target * ratio)), h = (int)Math.Round(Math.Sqrt(target / ratio));
            if (w > 0 && h > 0 && w <= width && h <= height)
                return (rng.NextInt(width - w + 1), rng.NextInt(height - h + 1), w, h);
        }
        double inRatio = (double)width / height;
        int cw = width, ch = height;
        if (inRatio < minRatio) ch = (int)Math.Round(width / minRatio);
        else if (inRatio > maxRatio) cw = (int)Math.Round(height * maxRatio);
        return ((width - cw) / 2, (height - ch) / 2, cw, ch);
    }

    /// <summary>The w × h region at (x, y) as a new image.</summary>
    public static RgbImage Crop(RgbImage img, int x, int y, int w, int h)
    {
        if (x < 0 || y < 0 || w < 1 || h < 1 || x + w > img.Width || y + h > img.Height)
            throw new ArgumentOutOfRangeException(nameof(x), $"crop {w}x{h} at ({x}, {y}) leaves the {img.Width}x{img.Height} image");
        if (x == 0 && y == 0 && w == img.Width && h == img.Height) return img;
        var px = new byte[w * h * 3];
        for (int r = 0; r < h; r++) Buffer.BlockCopy(img.Pixels, ((y + r) * img.Width + x) * 3, px, r * w * 3, w * 3);
        return new RgbImage(w, h, px);
    }

    /// <summary>
    /// torchvision's RandomErasing (scale 0.02–0.33 of the area, ratio 0.3–3.3, value 0): a black rectangle, which
    /// teaches the classifier not to rely on any one part of the object.
    /// </summary>
    public static void Erase(RgbImage img, StrixRandom rng)
    {
        double area = (double)img.Width * img.Height;
        for (int attempt = 0; attempt < 10; attempt++)
        {
            double target = area * rng.Uniform(0.02, 0.33);
            double ratio = Math.Exp(rng.Uniform(Math.Log(0.3), Math.Log(3.3)));
            int h = (int)Math.Round(Math.Sqrt(target * ratio)), w = (int)Math.Round(Math.Sqrt(target / ratio));
            if (w >= img.Width || h >= img.Height || w < 1 || h < 1) continue;
            int x = rng.NextInt(img.Width - w + 1), y = rng.NextInt(img.Height - h + 1);
            for (int r = 0; r < h; r++) Array.Clear(img.Pixels, ((y + r) * img.Width + x) * 3, w * 3);
            return;
        }
    }
}
