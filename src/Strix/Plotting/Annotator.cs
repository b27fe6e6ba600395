using SkiaSharp;
using Strix.Data;

namespace Strix.Plotting;

/// <summary>A box to draw: corners in the picture's pixels, its class (the colour), its label (null: none) and its confidence (weaker boxes are drawn first, so the strongest end on top).</summary>
public readonly record struct DrawnBox(float X1, float Y1, float X2, float Y2, int ClassId, string? Label, float Confidence = 1f)
{
    /// <summary>An oriented box's four corners (x1 y1 … x4 y4), drawn as a polygon instead of the axis-aligned rectangle; null for a plain box.</summary>
    public float[]? Corners { get; init; }
}

/// <summary>Draws class-coloured boxes with "name conf" labels, sized relative to the image.</summary>
public static class Annotator
{
    /// <summary>A fixed, well-spread palette: hues stepped by the golden angle, alternating lightness.</summary>
    public static SKColor ColorFor(int classId)
    {
        float hue = (float)(classId * 137.508 % 360.0);
        float sat = 85f - classId / 7 % 3 * 10f;
        float light = classId % 2 == 0 ? 50f : 42f;
        return SKColor.FromHsl(hue, sat, light);
    }

    static readonly Lazy<SKTypeface> Typeface = new(LoadTypeface);

    static SKTypeface LoadTypeface()
    {
        var t = SKTypeface.Default;
        if (t is not null && t.GlyphCount > 0) return t;
        foreach (var path in new[] { "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/TTF/DejaVuSans.ttf", "C:\\Windows\\Fonts\\arial.ttf", "/System/Library/Fonts/Helvetica.ttc" })
            if (File.Exists(path) && SKTypeface.FromFile(path) is { } f) return f;
        return SKTypeface.Default!;
    }

    /// <summary>Returns a copy of <paramref name="image"/> with <paramref name="boxes"/> drawn.</summary>
    public static RgbImage Draw(RgbImage image, IEnumerable<DrawnBox> boxes)
    {
        using var bmp = ImageIO.ToBitmap(image);
        DrawOn(bmp, boxes);
        return ImageIO.FromBitmap(bmp);
    }

    /// <summary>Draws onto a bitmap in place.</summary>
    public static void DrawOn(SKBitmap bmp, IEnumerable<DrawnBox> boxes)
    {
        using var canvas = new SKCanvas(bmp);
        float lw = Math.Max(2f, (bmp.Width + bmp.Height) / 2f * 0.003f);
        using var font = new SKFont(Typeface.Value, Math.Max(11f, lw * 5.5f));
        using var stroke = new SKPaint { Style = SKPaintStyle.Stroke, StrokeWidth = lw, IsAntialias = true };
        using var fill = new SKPaint { Style = SKPaintStyle.Fill, IsAntialias = true };
        using var text = new SKPaint { Color = SKColors.White, IsAntialias = true };
        // Draw lowest confidence first so the strongest boxes end on top.
        foreach (var d in boxes.OrderBy(d => d.Confidence))
        {
            var color = ColorFor(d.ClassId);
            stroke.Color = color;
            var rect = new SKRect(d.X1, d.Y1, d.X2, d.Y2);
            if (d.Corners is { Length: 8 } c)
            {
                using var path = new SKPath();
                path.MoveTo(c[0], c[1]);
                for (int k = 2; k < 8; k += 2) path.LineTo(c[k], c[k + 1]);
                path.Close();
                canvas.DrawPath(path, stroke);
            }
            else canvas.DrawRect(rect, stroke);
            if (d.Label is not string label) continue;
            float tw = font.MeasureText(label);
            var metrics = font.Metrics;
            float th = metrics.Descent - metrics.Ascent;
            float pad = lw;
            // Label above the box if it fits, otherwise inside its top edge.
            float top = rect.Top - th - 2 * pad >= 0 ? rect.Top - th - 2 * pad : rect.Top;
            float left = Math.Clamp(rect.Left - lw / 2, 0, Math.Max(0, bmp.Width - tw - 2 * pad));
            fill.Color = color;
            canvas.DrawRect(new SKRect(left, top, left + tw + 2 * pad, top + th + 2 * pad), fill);
            text.Color = color.Red * 0.299 + color.Green * 0.587 + color.Blue * 0.114 > 160 ? SKColors.Black : SKColors.White;
            canvas.DrawText(label, left + pad, top + pad - metrics.Ascent, SKTextAlign.Left, font, text);
        }
        canvas.Flush();
    }

    /// <summary>Draws connected line segments (a track's trail, a counting line or zone) onto a bitmap in place.</summary>
    public static void DrawPolyline(SKBitmap bmp, IReadOnlyList<SKPoint> points, SKColor color, float? width = null, bool closed = false)
    {
        if (points.Count < 2) return;
        using var canvas = new SKCanvas(bmp);
        using var paint = new SKPaint { Style = SKPaintStyle.Stroke, Color = color, IsAntialias = true,
            StrokeWidth = width ?? Math.Max(2f, (bmp.Width + bmp.Height) / 2f * 0.003f), StrokeJoin = SKStrokeJoin.Round, StrokeCap = SKStrokeCap.Round };
        using var path = new SKPath();
        path.MoveTo(points[0]);
        for (int i = 1; i < points.Count; i++) path.LineTo(points[i]);
        if (closed) path.Close();
        canvas.DrawPath(path, paint);
        canvas.Flush();
    }

    /// <summary>Writes lines of white text on a dark band at the top-left corner (counts, fps).</summary>
    public static void DrawCaption(SKBitmap bmp, IReadOnlyList<string> lines)
    {
        if (lines.Count == 0) return;
        using var canvas = new SKCanvas(bmp);
        float lw = Math.Max(2f, (bmp.Width + bmp.Height) / 2f * 0.003f);
        using var font = new SKFont(Typeface.Value, Math.Max(11f, lw * 5.5f));
        using var fill = new SKPaint { Color = new SKColor(0, 0, 0, 160) };
        using var text = new SKPaint { Color = SKColors.White, IsAntialias = true };
        var m = font.Metrics;
        float th = m.Descent - m.Ascent, pad = lw;
        float width = lines.Max(l => font.MeasureText(l)) + 2 * pad;
        canvas.DrawRect(new SKRect(0, 0, width, lines.Count * (th + pad) + pad), fill);
        for (int i = 0; i < lines.Count; i++)
            canvas.DrawText(lines[i], pad, pad + i * (th + pad) - m.Ascent, SKTextAlign.Left, font, text);
        canvas.Flush();
    }

    /// <summary>COCO's person skeleton (17 keypoints): pairs of keypoint indices joined when drawn.</summary>
    public static readonly (int A, int B)[] CocoSkeleton =
    {
        (15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11), (6, 12), (5, 6), (5, 7), (6, 8), (7, 9), (8, 10),
        (1, 2), (0, 1), (0, 2), (1, 3), (2, 4), (3, 5), (4, 6),
    };

    /// <summary>
    /// One object's keypoints as dots in a colour per keypoint, joined by <paramref name="skeleton"/>'s limbs; points with
    /// confidence under 0.5 are left out, as Ultralytics draws them.
    /// </summary>
    public static void DrawKeypoints(SKBitmap bmp, IReadOnlyList<(float X, float Y, float Conf)> points, IReadOnlyList<(int A, int B)>? skeleton)
    {
        const float MinConf = 0.5f;
        using var canvas = new SKCanvas(bmp);
        float lw = Math.Max(2f, (bmp.Width + bmp.Height) / 2f * 0.003f);
        bool Shown((float X, float Y, float Conf) p) => p.Conf >= MinConf && p.X > 0 && p.Y > 0 && p.X < bmp.Width && p.Y < bmp.Height;
        if (skeleton is not null)
        {
            using var limb = new SKPaint { StrokeWidth = lw, IsAntialias = true, Style = SKPaintStyle.Stroke };
            for (int j = 0; j < skeleton.Count; j++)
            {
                var (a, b) = skeleton[j];
                if (a >= points.Count || b >= points.Count || !Shown(points[a]) || !Shown(points[b])) continue;
                limb.Color = ColorFor(j);
                canvas.DrawLine(points[a].X, points[a].Y, points[b].X, points[b].Y, limb);
            }
        }
        using var dot = new SKPaint { IsAntialias = true, Style = SKPaintStyle.Fill };
        for (int k = 0; k < points.Count; k++)
        {
            if (!Shown(points[k])) continue;
            dot.Color = ColorFor(k);
            canvas.DrawCircle(points[k].X, points[k].Y, lw * 1.5f, dot);
        }
        canvas.Flush();
    }
}
