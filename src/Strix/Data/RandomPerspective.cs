using Strix.Runtime;
namespace Strix.Data;

/// <summary>
/// YOLO's random perspective/affine augmentation: rotation, scale, shear, translation (and optional
/// perspective) as one matrix <c>M = T·S·R·P·C</c>, applied to the pixels and to the box corners (or, for
/// segmentation, to every polygon point, the box then taken from the points inside the image),
/// followed by the candidate filter that drops boxes the warp made too small, too thin or mostly cut off.
/// </summary>
public static class RandomPerspective
{
    /// <summary>
    /// Warps <paramref name="img"/> onto a canvas of its size plus twice <paramref name="borderH"/>/<paramref name="borderW"/>
    /// (a mosaic passes −imgsz/2 so the 2·imgsz mosaic becomes imgsz). Random draws, in order:
    /// perspective x/y, angle, scale, shear x/y, translation x/y.
    /// </summary>
    public static (RgbImage Image, Instances Labels) Apply(RgbImage img, Instances labels, AugmentationOptions hyp,
        StrixRandom rng, int borderH = 0, int borderW = 0)
    {
        int height = img.Height + borderH * 2, width = img.Width + borderW * 2;
        var m = BuildMatrix(img.Width, img.Height, width, height, hyp, rng, out double scale);
        bool identity = borderH == 0 && borderW == 0 && m.SequenceEqual(AffineWarp.Identity());
        var outImg = identity ? img : AffineWarp.Warp(img, m, width, height);
        if (labels.Count == 0) return (outImg, labels);

        var moved = labels.Segments is null
            ? new Instances(labels.Cls, AffineWarp.TransformBoxes(labels.Xyxy, m))
            : WarpSegments(labels, m, width, height);
        if (labels.Keypoints is { } kpts)
            moved = new Instances(moved.Cls, moved.Xyxy, moved.Segments,
                kpts.Select(k => Instances.MapPoints(k, (x, y) => { var (u, v) = AffineWarp.Apply(m, x, y); return ((float)u, (float)v); })).ToArray());
        moved.Clip(width, height);
        var before = labels.Xyxy;
        // Polygons give tight boxes, so a small remaining part is still a real object: 1 % of the area instead of 10 % (Ultralytics).
        double areaThr = labels.Segments is null ? 0.1 : 0.01;
        var kept = moved.Where(i => IsCandidate(
            (before[4 * i + 2] - before[4 * i]) * scale, (before[4 * i + 3] - before[4 * i + 1]) * scale,
            moved.Xyxy[4 * i + 2] - moved.Xyxy[4 * i], moved.Xyxy[4 * i + 3] - moved.Xyxy[4 * i + 1], areaThr: areaThr));
        return (outImg, kept);
    }

    /// <summary>
    /// Each polygon's points through <paramref name="m"/>; its box is that of the points left inside the output (zero when
    /// none is), and the points are then held inside that box, so the polygon never reaches past what the box claims.
    /// </summary>
    static Instances WarpSegments(Instances labels, double[] m, int width, int height)
    {
        var segs = new float[labels.Count][];
        var boxes = new float[labels.Count * 4];
        for (int k = 0; k < labels.Count; k++)
        {
            var src = labels.Segments![k];
            var dst = new float[src.Length];
            for (int i = 0; i < src.Length; i += 2)
            {
                var (x, y) = AffineWarp.Apply(m, src[i], src[i + 1]);
                dst[i] = (float)x; dst[i + 1] = (float)y;
            }
            var box = Polygons.BoxInside(dst, width, height) ?? (0, 0, 0, 0);
            boxes[4 * k] = box.X1; boxes[4 * k + 1] = box.Y1; boxes[4 * k + 2] = box.X2; boxes[4 * k + 3] = box.Y2;
            for (int i = 0; i < dst.Length; i += 2)
            {
                dst[i] = Math.Clamp(dst[i], box.X1, box.X2);
                dst[i + 1] = Math.Clamp(dst[i + 1], box.Y1, box.Y2);
            }
            segs[k] = dst;
        }
        return new Instances(labels.Cls, boxes, segs);
    }

    /// <summary>The random matrix (source → destination) and the zoom factor it contains.</summary>
    public static double[] BuildMatrix(int srcW, int srcH, int outW, int outH, AugmentationOptions hyp, StrixRandom rng, out double scale)
    {
        // C: move the image centre to the origin.
        double[] c = { 1, 0, -srcW / 2.0, 0, 1, -srcH / 2.0, 0, 0, 1 };
        // P: perspective.
        double[] p = { 1, 0, 0, 0, 1, 0, rng.Uniform(-hyp.Perspective, hyp.Perspective), rng.Uniform(-hyp.Perspective, hyp.Perspective), 1 };
        // R: rotation and zoom (positive angle = counter-clockwise on screen, as OpenCV's getRotationMatrix2D).
        double a = rng.Uniform(-hyp.Degrees, hyp.Degrees) * Math.PI / 180;
        scale = rng.Uniform(1 - hyp.Scale, 1 + hyp.Scale);
        double ca = Math.Cos(a) * scale, sa = Math.Sin(a) * scale;
        double[] r = { ca, sa, 0, -sa, ca, 0, 0, 0, 1 };
        // S: shear.
        double shx = Math.Tan(rng.Uniform(-hyp.Shear, hyp.Shear) * Math.PI / 180);
        double shy = Math.Tan(rng.Uniform(-hyp.Shear, hyp.Shear) * Math.PI / 180);
        double[] s = { 1, shx, 0, shy, 1, 0, 0, 0, 1 };
        // T: translate the centre to a random point around the output centre.
        double tx = rng.Uniform(0.5 - hyp.Translate, 0.5 + hyp.Translate) * outW;
        double ty = rng.Uniform(0.5 - hyp.Translate, 0.5 + hyp.Translate) * outH;
        double[] t = { 1, 0, tx, 0, 1, ty, 0, 0, 1 };
        return AffineWarp.Multiply(t, AffineWarp.Multiply(s, AffineWarp.Multiply(r, AffineWarp.Multiply(p, c))));
    }

    /// <summary>
    /// Ultralytics' <c>box_candidates</c>: keep a box if it is wider and taller than 2 px, kept more than
    /// 10 % of its (zoom-adjusted) area, and its aspect ratio stays below 100.
    /// </summary>
    public static bool IsCandidate(double w1, double h1, double w2, double h2,
        double whThr = 2, double arThr = 100, double areaThr = 0.1, double eps = 1e-16)
    {
        double ar = Math.Max(w2 / (h2 + eps), h2 / (w2 + eps));
        return w2 > whThr && h2 > whThr && w2 * h2 / (w1 * h1 + eps) > areaThr && ar < arThr;
    }
}
