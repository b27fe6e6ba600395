using Strix.Runtime;
using SkiaSharp;
using static TorchSharp.torch;
using Strix.Data;

namespace Strix.Plotting;

/// <summary>
/// Pictures for looking at a dataset before training on it, like Ultralytics': <c>labels.jpg</c>
/// (instances per class, box shapes, centre and size distributions) and <c>train_batch0.jpg</c>
/// (a grid of augmented samples with their boxes drawn).
/// </summary>
public static class DataPlots
{
    static readonly Lazy<SKTypeface> Face = new(() =>
    {
        var t = SKTypeface.Default;
        if (t is not null && t.GlyphCount > 0) return t;
        foreach (var p in new[] { "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/TTF/DejaVuSans.ttf", "C:\\Windows\\Fonts\\arial.ttf", "/System/Library/Fonts/Helvetica.ttc" })
            if (File.Exists(p) && SKTypeface.FromFile(p) is { } f) return f;
        return SKTypeface.Default!;
    });

    /// <summary>Writes the 2×2 label statistics figure for the usable images of <paramref name="scan"/>.</summary>
    public static void PlotLabels(LabelScan scan, IReadOnlyList<string> names, string path)
    {
        const int Panel = 640, Size = 2 * Panel;
        using var bmp = new SKBitmap(new SKImageInfo(Size, Size, SKColorType.Rgba8888, SKAlphaType.Premul));
        using var canvas = new SKCanvas(bmp);
        canvas.Clear(SKColors.White);
        var xs = new List<float>(); var ys = new List<float>(); var ws = new List<float>(); var hs = new List<float>(); var cs = new List<int>();
        foreach (var l in scan.Valid)
            for (int i = 0; i < l.Count; i++)
            {
                cs.Add((int)l.Cls[i]);
                xs.Add(l.Boxes[4 * i]); ys.Add(l.Boxes[4 * i + 1]); ws.Add(l.Boxes[4 * i + 2]); hs.Add(l.Boxes[4 * i + 3]);
            }

        ClassHistogram(canvas, new SKRect(0, 0, Panel, Panel), scan.ClassCounts, names);
        BoxShapes(canvas, new SKRect(Panel, 0, Size, Panel), ws, hs, cs);
        Heatmap(canvas, new SKRect(0, Panel, Panel, Size), xs, ys, "x (box centre)", "y", flipY: false);
        Heatmap(canvas, new SKRect(Panel, Panel, Size, Size), ws, hs, "width", "height", flipY: true);
        canvas.Flush();
        ImageIO.Save(bmp, path, 90);
    }

    /// <summary>Writes a grid of the batch's images (at most 16) with boxes and class names drawn.</summary>
    public static void PlotBatch(Batch batch, IReadOnlyList<string> names, string path, int maxImages = 16, int maxSize = 1920)
    {
        int b = Math.Min(batch.Count, maxImages);
        float[] idx = TensorArrays.Floats(batch.BatchIdx), cls = TensorArrays.Floats(batch.Cls), boxes = TensorArrays.Floats(batch.Bboxes);
        var labels = Enumerable.Range(0, b).Select(i => BatchGrid.Labels(batch, i, idx, cls, boxes)).ToList();
        BatchGrid.Save(batch.Images, labels, names, batch.Files, path, maxImages: maxImages, maxSize: maxSize);
    }

    static void Axes(SKCanvas canvas, SKRect plot, string xLabel, string yLabel, string title, bool ticks = true, bool yDown = false)
    {
        using var axis = new SKPaint { Color = SKColors.Black, StrokeWidth = 1.5f, IsAntialias = true, Style = SKPaintStyle.Stroke };
        using var font = new SKFont(Face.Value, 15);
        using var text = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        canvas.DrawLine(plot.Left, plot.Bottom, plot.Right, plot.Bottom, axis);
        canvas.DrawLine(plot.Left, plot.Top, plot.Left, plot.Bottom, axis);
        canvas.DrawText(xLabel, plot.MidX, plot.Bottom + 40, SKTextAlign.Center, font, text);
        canvas.Save();
        canvas.RotateDegrees(-90, plot.Left - 52, plot.MidY);
        canvas.DrawText(yLabel, plot.Left - 52, plot.MidY, SKTextAlign.Center, font, text);
        canvas.Restore();
        using var big = new SKFont(Face.Value, 18) { Embolden = true };
        canvas.DrawText(title, plot.MidX, plot.Top - 14, SKTextAlign.Center, big, text);
        if (ticks)
        {
            for (int i = 0; i <= 4; i++)
            {
                float f = i / 4f;
                canvas.DrawText($"{f:0.00}", plot.Left + f * plot.Width, plot.Bottom + 18, SKTextAlign.Center, font, text);
                float y = yDown ? plot.Top + f * plot.Height : plot.Bottom - f * plot.Height;
                canvas.DrawText($"{f:0.00}", plot.Left - 6, y + 5, SKTextAlign.Right, font, text);
            }
        }
    }

    static SKRect Inner(SKRect r) => new(r.Left + 70, r.Top + 45, r.Right - 25, r.Bottom - 70);

    static void ClassHistogram(SKCanvas canvas, SKRect panel, int[] counts, IReadOnlyList<string> names)
    {
        var plot = Inner(panel);
        int n = counts.Length, max = Math.Max(1, (int)Math.Ceiling(counts.DefaultIfEmpty(0).Max() * 1.08)); // headroom for the count labels
        Axes(canvas, plot, "", "instances", $"instances per class ({counts.Sum()} total)", ticks: false);
        using var bar = new SKPaint { IsAntialias = true };
        using var font = new SKFont(Face.Value, n <= 12 ? 14 : 9);
        using var text = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        float bw = plot.Width / Math.Max(1, n);
        for (int i = 0; i < n; i++)
        {
            float bh = plot.Height * counts[i] / max;
            bar.Color = Annotator.ColorFor(i);
            canvas.DrawRect(plot.Left + i * bw + bw * 0.1f, plot.Bottom - bh, bw * 0.8f, bh, bar);
            if (n <= 30 || i % (n / 20 + 1) == 0)
            {
                canvas.Save();
                canvas.RotateDegrees(n <= 12 ? 0 : -90, plot.Left + (i + 0.5f) * bw, plot.Bottom + 16);
                canvas.DrawText(i < names.Count ? names[i] : i.ToString(), plot.Left + (i + 0.5f) * bw, plot.Bottom + 16,
                    n <= 12 ? SKTextAlign.Center : SKTextAlign.Right, font, text);
                canvas.Restore();
            }
            if (n <= 30) canvas.DrawText(counts[i].ToString(), plot.Left + (i + 0.5f) * bw, plot.Bottom - bh - 4, SKTextAlign.Center, font, text);
        }
        for (int t = 0; t <= 4; t++)
            canvas.DrawText($"{max * t / 4}", plot.Left - 6, plot.Bottom - t / 4f * plot.Height + 5, SKTextAlign.Right, font, text);
    }

    static void BoxShapes(SKCanvas canvas, SKRect panel, List<float> ws, List<float> hs, List<int> cs)
    {
        var plot = Inner(panel);
        Axes(canvas, plot, "", "", "box shapes (normalised, centred; panel = image size)", ticks: false);
        using var p = new SKPaint { Style = SKPaintStyle.Stroke, StrokeWidth = 1, IsAntialias = true };
        int step = Math.Max(1, ws.Count / 1000);
        for (int i = 0; i < ws.Count; i += step)
        {
            p.Color = Annotator.ColorFor(cs[i]).WithAlpha(90);
            float bw = ws[i] * plot.Width, bh = hs[i] * plot.Height;
            canvas.DrawRect(plot.MidX - bw / 2, plot.MidY - bh / 2, bw, bh, p);
        }
    }

    static void Heatmap(SKCanvas canvas, SKRect panel, List<float> xs, List<float> ys, string xLabel, string yLabel, bool flipY)
    {
        var plot = Inner(panel);
        const int Bins = 50;
        var hist = new int[Bins, Bins];
        for (int i = 0; i < xs.Count; i++)
        {
            int bx = Math.Clamp((int)(xs[i] * Bins), 0, Bins - 1), by = Math.Clamp((int)(ys[i] * Bins), 0, Bins - 1);
            hist[bx, by]++;
        }
        int max = 1;
        foreach (var v in hist) max = Math.Max(max, v);
        using var cell = new SKPaint();
        float cw = plot.Width / Bins, chh = plot.Height / Bins;
        for (int x = 0; x < Bins; x++)
            for (int y = 0; y < Bins; y++)
            {
                if (hist[x, y] == 0) continue;
                float t = (float)Math.Sqrt(hist[x, y] / (double)max);
                cell.Color = new SKColor((byte)(255 - 230 * t), (byte)(255 - 160 * t), (byte)(255 - 40 * t));
                // y axis: centres drawn top-down like the image; sizes bottom-up like a chart.
                float top = flipY ? plot.Bottom - (y + 1) * chh : plot.Top + y * chh;
                canvas.DrawRect(plot.Left + x * cw, top, cw + 0.5f, chh + 0.5f, cell);
            }
        Axes(canvas, plot, xLabel, yLabel, $"{yLabel} vs {xLabel} ({xs.Count} boxes)", yDown: !flipY);
    }
}
