using SkiaSharp;
using Strix.Data;
using static TorchSharp.torch;

namespace Strix.Plotting;

/// <summary>Boxes of one image for <see cref="BatchGrid"/>: row-major xyxy in the image's pixels, classes, and confidences for predictions (null for labels).</summary>
public sealed record ImageBoxes(float[] Xyxy, int[] Classes, float[]? Confidences = null)
{
    public int Count => Classes.Length;
    /// <summary>Per box, its mask (row-major 0/1 at the image's size) or null; null for none at all (detection).</summary>
    public byte[]?[]? Masks { get; init; }
    /// <summary>Per box, its keypoints as <c>x y conf</c> in the image's pixels (pose), or null for none at all.</summary>
    public float[][]? Keypoints { get; init; }
    /// <summary>Per box, its rotated box's corners <c>x1 y1 … x4 y4</c> in the image's pixels (OBB, drawn as the polygon), or null for none at all.</summary>
    public float[][]? Corners { get; init; }
    public static ImageBoxes Empty { get; } = new(Array.Empty<float>(), Array.Empty<int>());
}

/// <summary>
/// A batch drawn as one picture (Ultralytics' <c>val_batchN_labels.jpg</c> / <c>_pred.jpg</c>): up to 16
/// images in a square grid, shrunk so the grid is at most 1920 px, each with its boxes and file
/// name; predictions below 0.25 confidence are left out so the picture shows what matters.
/// </summary>
public static class BatchGrid
{
    /// <summary>The default <c>confThreshold</c>: predictions at or below it are not drawn.</summary>
    public const double DrawThreshold = 0.25;

    /// <summary>One image's labels as tiles draw them: boxes from the batch's normalised xywh, and its masks when it has them.</summary>
    public static ImageBoxes Labels(Batch batch, int image, float[] idx, float[] cls, float[] xywhn)
    {
        int h = (int)batch.Images.shape[2], w = (int)batch.Images.shape[3];
        var rows = Enumerable.Range(0, idx.Length).Where(k => (int)idx[k] == image).ToArray();
        var xywhnRows = new float[rows.Length * 4];
        for (int j = 0; j < rows.Length; j++) Array.Copy(xywhn, rows[j] * 4, xywhnRows, j * 4, 4);
        var boxes = FromXywhn(xywhnRows, rows.Select(k => (int)cls[k]).ToArray(), h, w);
        if (batch.Keypoints is { } kp)
        {
            using var scope = TorchSharp.torch.NewDisposeScope();
            var all = Runtime.TensorArrays.Floats(kp);
            int per = (int)(kp.shape[1] * 3);
            boxes = boxes with
            {
                Keypoints = rows.Select(r => Enumerable.Range(0, per).Select(q => q % 3 == 0 ? all[r * per + q] * w : q % 3 == 1 ? all[r * per + q] * h : all[r * per + q] > 0 ? 1f : 0f).ToArray()).ToArray(),
            };
        }
        if (batch.OrientedBoxes is { } ob)
        {
            using var scope = TorchSharp.torch.NewDisposeScope();
            var r = Runtime.TensorArrays.Floats(ob);
            boxes = boxes with { Corners = rows.Select(k => Data.Polygons.RectCorners(r[5 * k] * w, r[5 * k + 1] * h, r[5 * k + 2] * w, r[5 * k + 3] * h, r[5 * k + 4])).ToArray() };
        }
        return batch.Masks is null ? boxes : boxes with { Masks = LabelMasks(batch, image, rows) };
    }

    /// <summary>Boxes given as centre xywh normalised to an h×w image → tile boxes in its pixels.</summary>
    public static ImageBoxes FromXywhn(float[] xywhn, int[] cls, int h, int w)
    {
        var xyxy = new float[xywhn.Length];
        for (int o = 0; o < xywhn.Length; o += 4)
        {
            float cx = xywhn[o] * w, cy = xywhn[o + 1] * h, hw = xywhn[o + 2] * w / 2, hh = xywhn[o + 3] * h / 2;
            xyxy[o] = cx - hw; xyxy[o + 1] = cy - hh; xyxy[o + 2] = cx + hw; xyxy[o + 3] = cy + hh;
        }
        return new ImageBoxes(xyxy, cls);
    }

    /// <summary>One image's target masks at the batch image's size, as tiles draw them (bilinear up from 1/mask_ratio, ½ threshold).</summary>
    public static byte[]?[] LabelMasks(Batch batch, int image, IReadOnlyList<int> rows)
    {
        using var scope = NewDisposeScope();
        int h = (int)batch.Images.shape[2], w = (int)batch.Images.shape[3];
        var labels = batch.ObjectMasks(image, rows);
        var up = nn.functional.interpolate(labels.unsqueeze(0), new long[] { h, w }, mode: InterpolationMode.Bilinear, align_corners: false).squeeze(0);
        return Planes(up.gt(Runtime.Scalars.Half));
    }

    /// <summary>[n, h, w] masks (bool or 0/1) → one row-major 0/1 byte plane per mask.</summary>
    public static byte[]?[] Planes(Tensor masks)
    {
        using var scope = NewDisposeScope();
        var bytes = masks.to(ScalarType.Byte).cpu().contiguous();
        long n = bytes.shape[0], size = bytes.shape[1] * bytes.shape[2];
        if (n == 0) return Array.Empty<byte[]?>();
        var all = Runtime.TensorArrays.Bytes(bytes);
        var planes = new byte[]?[n];
        for (long k = 0; k < n; k++) planes[k] = all.AsSpan((int)(k * size), (int)size).ToArray();
        return planes;
    }

    /// <param name="images">uint8 [B,3,H,W] RGB, the model input (any device).</param>
    /// <param name="boxes">Per image, in <paramref name="images"/>' pixel coordinates.</param>
    /// <param name="names">Class names for the labels.</param>
    /// <param name="files">Per image, the source file (its name is written on the tile); may be null.</param>
    /// <param name="path">Output file (.jpg), written atomically.</param>
    /// <param name="confThreshold">Predictions at or below this confidence are not drawn.</param>
    /// <param name="maxImages">Most images in the grid.</param>
    /// <param name="maxSize">Longest side of the grid in pixels; tiles shrink to fit.</param>
    public static void Save(Tensor images, IReadOnlyList<ImageBoxes> boxes, IReadOnlyList<string> names, IReadOnlyList<string>? files,
        string path, double confThreshold = DrawThreshold, int maxImages = 16, int maxSize = 1920)
    {
        if (images.dim() != 4 || images.shape[1] != 3) throw new ArgumentException($"images must be [B,3,H,W], got [{string.Join(",", images.shape)}]");
        int b = (int)Math.Min(images.shape[0], maxImages), h = (int)images.shape[2], w = (int)images.shape[3];
        if (b == 0) throw new ArgumentException("no images to plot");
        if (boxes.Count < b) throw new ArgumentException($"{boxes.Count} box lists for {b} images");
        int ns = (int)Math.Ceiling(Math.Sqrt(b));
        double scale = Math.Min(1.0, maxSize / (double)ns / Math.Max(h, w));
        int th = (int)Math.Ceiling(h * scale), tw = (int)Math.Ceiling(w * scale);

        byte[] hwc;
        using (NewDisposeScope())
            hwc = images.narrow(0, 0, b).to(ScalarType.Byte).permute(0, 2, 3, 1).contiguous().cpu().data<byte>().ToArray();

        using var mosaic = new SKBitmap(new SKImageInfo(ns * tw, ns * th, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        using (var canvas = new SKCanvas(mosaic))
        {
            canvas.Clear(SKColors.White);
            using var border = new SKPaint { Style = SKPaintStyle.Stroke, StrokeWidth = 2, Color = SKColors.White };
            using var font = new SKFont(SKTypeface.Default, Math.Max(10f, (th + tw) * 0.02f));
            using var nameFill = new SKPaint { Color = new SKColor(220, 220, 220), IsAntialias = true };
            using var nameShadow = new SKPaint { Color = SKColors.Black, IsAntialias = true };
            for (int i = 0; i < b; i++)
            {
                var pixels = new byte[h * w * 3];
                Buffer.BlockCopy(hwc, i * h * w * 3, pixels, 0, pixels.Length);
                var img = new RgbImage(w, h, pixels);
                PaintMasks(img, boxes[i], confThreshold);
                if (scale < 1) img = ImageOps.ResizeBilinear(img, tw, th);
                using var tile = ImageIO.ToBitmap(img);
                var drawn = Drawn(boxes[i], names, scale, confThreshold).ToList();
                Annotator.DrawOn(tile, drawn);
                if (boxes[i].Keypoints is { } kps)
                    for (int k = 0; k < kps.Length; k++)
                    {
                        if (boxes[i].Confidences is { } conf && conf[k] < confThreshold) continue;
                        var pts = Enumerable.Range(0, kps[k].Length / 3).Select(q => (kps[k][q * 3] * (float)scale, kps[k][q * 3 + 1] * (float)scale, kps[k][q * 3 + 2])).ToList();
                        Annotator.DrawKeypoints(tile, pts, pts.Count == 17 ? Annotator.CocoSkeleton : null);
                    }
                int x = tw * (i % ns), y = th * (i / ns);
                canvas.DrawBitmap(tile, x, y);
                canvas.DrawRect(new SKRect(x, y, x + tw, y + th), border);
                if (files is not null && i < files.Count)
                {
                    var name = Path.GetFileName(files[i]);
                    if (name.Length > 40) name = name[..40];
                    // A label drawn at the tile's top edge (a classifier's whole-image box) keeps the top: the name goes to the bottom.
                    bool topTaken = drawn.Any(d => d.Label is not null && d.Y1 <= 2);
                    float tx = x + 5, ty = topTaken ? y + th - 5 - font.Metrics.Descent : y + 5 - font.Metrics.Ascent;
                    canvas.DrawText(name, tx + 1, ty + 1, SKTextAlign.Left, font, nameShadow);
                    canvas.DrawText(name, tx, ty, SKTextAlign.Left, font, nameFill);
                }
            }
        }
        ImageIO.Save(mosaic, path);
    }

    static void PaintMasks(RgbImage img, ImageBoxes b, double confThreshold)
    {
        if (b.Masks is null) return;
        for (int j = 0; j < Math.Min(b.Count, b.Masks.Length); j++)
        {
            if (b.Masks[j] is not { } mask || (b.Confidences is not null && b.Confidences[j] <= confThreshold)) continue;
            MaskOverlay.Blend(img, mask, Annotator.ColorFor(b.Classes[j]));
        }
    }

    static IEnumerable<DrawnBox> Drawn(ImageBoxes b, IReadOnlyList<string> names, double scale, double confThreshold)
    {
        for (int j = 0; j < b.Count; j++)
        {
            float conf = b.Confidences?[j] ?? 1f;
            if (b.Confidences is not null && conf <= confThreshold) continue;
            int c = b.Classes[j];
            string name = c >= 0 && c < names.Count ? names[c] : c.ToString(System.Globalization.CultureInfo.InvariantCulture);
            yield return new DrawnBox((float)(b.Xyxy[j * 4] * scale), (float)(b.Xyxy[j * 4 + 1] * scale),
                (float)(b.Xyxy[j * 4 + 2] * scale), (float)(b.Xyxy[j * 4 + 3] * scale), c,
                b.Confidences is null ? name : $"{name} {conf:0.00}", conf)
            {
                Corners = b.Corners?[j] is { Length: 8 } c8 ? c8.Select(v => (float)(v * scale)).ToArray() : null,
            };
        }
    }
}
