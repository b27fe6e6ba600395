using Strix.IO;
using Strix.Runtime;
using System.Globalization;
using System.Text;
using SkiaSharp;

namespace Strix.Data;

/// <summary>Size and seed of the generated <c>shapes</c> dataset.</summary>
public sealed record ShapesOptions
{
    public int Seed { get; init; } = 0;
    public int Train { get; init; } = 1500;
    public int Val { get; init; } = 200;
    /// <summary>Long side of the generated images.</summary>
    public int ImageSize { get; init; } = 320;
    /// <summary>
    /// The segmentation variant (<c>shapes-seg</c>): labels are the shapes' outlines as polygons, shapes never overlap
    /// (so every outline is exactly the object's visible pixels) and have no outline stroke.
    /// </summary>
    public bool Segments { get; init; }

    string Kind => Segments ? "shapes-seg" : "shapes";

    /// <summary>The folder name: <c>shapes-v1</c> (<c>shapes-seg-v1</c>) for the defaults, with the options appended otherwise.</summary>
    public string FolderName => this == new ShapesOptions { Segments = Segments }
        ? $"{Kind}-v{ShapesDataset.FormatVersion}"
        : $"{Kind}-v{ShapesDataset.FormatVersion}-s{Seed}-t{Train}-v{Val}-i{ImageSize}";
}

/// <summary>
/// The built-in <c>data=shapes</c> dataset: synthetic scenes of six shape classes in random colours,
/// sizes (small ones included) and rotations, on gradient/stripe/blob textured backgrounds with
/// distractor strokes, pixel noise and partial occlusion. Colour carries no class information, so a
/// model has to learn geometry; shapes are crisp, so yolov8n learns them in minutes on a CPU.
/// Generated on first use, reproducibly from a seed, into <see cref="DatasetsDir"/> (atomically:
/// built in a temporary folder, then renamed).
/// </summary>
/// <remarks>
/// Labels are the exact boxes of the shapes (polygon vertices after rotation, plus outline width).
/// A shape is only placed where it leaves every earlier shape at least
/// <see cref="MinVisibleFraction"/> visible, so every labelled shape is mostly visible and every
/// visible shape is labelled.
/// </remarks>
public static class ShapesDataset
{
    /// <summary>Bumped when generation changes, so old caches are not mistaken for the new data.</summary>
    public const int FormatVersion = 1;
    public static readonly string[] ClassNames = { "circle", "triangle", "square", "star", "cross", "hexagon" };
    /// <summary>An occluded shape keeps at least this fraction of its pixels visible.</summary>
    public const double MinVisibleFraction = 0.6;

    /// <summary>True for <c>shapes</c> / <c>shapes.yaml</c> and <c>shapes-seg</c> / <c>shapes-seg.yaml</c> (case-insensitive).</summary>
    public static bool IsBuiltInName(string data) =>
        data.Trim().ToLowerInvariant() is "shapes" or "shapes.yaml" or "shapes-seg" or "shapes-seg.yaml";

    /// <summary>The options a built-in name stands for (<c>shapes-seg</c>: the segmentation variant).</summary>
    public static ShapesOptions OptionsFor(string data) =>
        new() { Segments = data.Trim().ToLowerInvariant().StartsWith("shapes-seg", StringComparison.Ordinal) };

    /// <summary><c>$STRIX_DATASETS</c>, else <c>~/.cache/strix/datasets</c>.</summary>
    public static string DatasetsDir
    {
        get
        {
            var env = Environment.GetEnvironmentVariable("STRIX_DATASETS");
            if (!string.IsNullOrWhiteSpace(env)) return Path.GetFullPath(env);
            return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "strix", "datasets");
        }
    }

    /// <summary>
    /// Returns the data.yaml of the generated dataset, generating it first if it is not there yet.
    /// Concurrent callers may both generate; the first rename wins and the other copy is discarded.
    /// </summary>
    public static string Ensure(string? datasetsDir = null, ShapesOptions? options = null, Action<string>? log = null)
    {
        options ??= new ShapesOptions();
        var final = Path.Combine(datasetsDir ?? DatasetsDir, options.FolderName);
        var yaml = Path.Combine(final, "data.yaml");
        if (File.Exists(yaml)) return yaml;
        var sw = System.Diagnostics.Stopwatch.StartNew();
        log?.Invoke($"Generating the built-in '{(options.Segments ? "shapes-seg" : "shapes")}' dataset ({options.Train} train + {options.Val} val images) into {final} …");
        AtomicFolder.Ensure(final, "data.yaml", tmp => Generate(tmp, options));
        log?.Invoke($"Generated '{(options.Segments ? "shapes-seg" : "shapes")}' in {sw.Elapsed.TotalSeconds:0.0} s");
        return yaml;
    }

    /// <summary>Writes the dataset (images/, labels/, data.yaml) into <paramref name="dir"/>.</summary>
    public static void Generate(string dir, ShapesOptions options)
    {
        foreach (var split in new[] { "train", "val" })
        {
            Directory.CreateDirectory(Path.Combine(dir, "images", split));
            Directory.CreateDirectory(Path.Combine(dir, "labels", split));
        }
        var jobs = Enumerable.Range(0, options.Train).Select(i => ("train", 0, i))
            .Concat(Enumerable.Range(0, options.Val).Select(i => ("val", 1, i))).ToArray();
        Parallel.ForEach(jobs, job =>
        {
            var (split, splitId, i) = job;
            var (jpeg, labels) = RenderScene(options.Seed, splitId, i, options.ImageSize, options.Segments);
            var name = $"{split}_{i:D5}";
            File.WriteAllBytes(Path.Combine(dir, "images", split, name + ".jpg"), jpeg);
            File.WriteAllText(Path.Combine(dir, "labels", split, name + ".txt"), labels);
        });
        var yaml = new StringBuilder();
        yaml.AppendLine($"# Strix built-in synthetic dataset '{(options.Segments ? "shapes-seg" : "shapes")}' v{FormatVersion} (seed {options.Seed}); regenerate by deleting this folder.");
        yaml.AppendLine("path: .");
        yaml.AppendLine("train: images/train");
        yaml.AppendLine("val: images/val");
        yaml.AppendLine("names:");
        for (int c = 0; c < ClassNames.Length; c++) yaml.AppendLine($"  {c}: {ClassNames[c]}");
        File.WriteAllText(Path.Combine(dir, "data.yaml"), yaml.ToString());
    }

    /// <summary>One scene: JPEG bytes and YOLO label text (boxes, or polygons with <paramref name="segments"/>). Pure function of its arguments.</summary>
    public static (byte[] Jpeg, string Labels) RenderScene(int seed, int split, int index, int size, bool segments = false, bool elongate = false)
    {
        var rng = new StrixRandom(seed, split, index, segments ? RandomStreams.ShapesSeg : RandomStreams.Shapes);
        double aspect = rng.NextDouble();
        int w = size, h = size;
        if (aspect < 0.2) h = size * 3 / 4; else if (aspect < 0.4) w = size * 3 / 4;

        using var bmp = new SKBitmap(new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(bmp))
        {
            DrawBackground(canvas, w, h, rng);
            DrawClutter(canvas, w, h, rng, count: rng.NextInt(3, 12), maxWidth: 4);
        }

        var owner = new short[w * h];
        Array.Fill(owner, (short)-1);
        var placed = new List<PlacedShape>();
        int target = 1 + rng.NextInt(5);
        using (var canvas = new SKCanvas(bmp))
        {
            for (int k = 0; k < target; k++)
            {
                for (int attempt = 0; attempt < 30; attempt++)
                {
                    var shape = RandomShape(rng, w, h, size, segments, elongate);
                    if (shape is null) continue;
                    if (!TryPlace(shape, owner, w, h, placed, segments ? 1.0 : MinVisibleFraction)) continue;
                    DrawShape(canvas, bmp, shape, rng);
                    placed.Add(shape);
                    break;
                }
            }
            // A few thin strokes over everything: occluders that are not objects.
            DrawClutter(canvas, w, h, rng, count: rng.NextInt(0, 4), maxWidth: 1.5f);
        }

        var img = ImageIO.FromBitmap(bmp);
        AddNoise(img, rng);
        using var outBmp = ImageIO.ToBitmap(img);
        using var skImage = SKImage.FromBitmap(outBmp);
        using var data = skImage.Encode(SKEncodedImageFormat.Jpeg, 92);

        var sb = new StringBuilder();
        foreach (var s in placed)
        {
            if (segments)
            {
                sb.Append(s.Class.ToString(CultureInfo.InvariantCulture));
                foreach (var p in s.Polygon)
                    sb.Append(string.Create(CultureInfo.InvariantCulture, $" {Math.Clamp(p.X / w, 0, 1):0.######} {Math.Clamp(p.Y / h, 0, 1):0.######}"));
                sb.AppendLine();
                continue;
            }
            float x1 = Math.Max(0, s.X1), y1 = Math.Max(0, s.Y1), x2 = Math.Min(w, s.X2), y2 = Math.Min(h, s.Y2);
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"{s.Class} {(x1 + x2) / 2 / w:0.######} {(y1 + y2) / 2 / h:0.######} {(x2 - x1) / w:0.######} {(y2 - y1) / h:0.######}"));
        }
        return (data.ToArray(), sb.ToString());
    }

    sealed class PlacedShape
    {
        public int Class;
        public SKPoint[] Polygon = Array.Empty<SKPoint>(); // exact outline (circle: fine polygon for the mask)
        public float Cx, Cy, Radius;
        public bool Round;                                    // an unstretched circle: drawn and hit-tested as one
        public float Stroke;                                  // outline width (0 = none)
        public float X1, Y1, X2, Y2;                          // label box incl. outline
        public int Area;                                      // pixels it owned when placed
        public int Visible;                                   // pixels it still owns
        public int Id;
    }

    static PlacedShape? RandomShape(StrixRandom rng, int w, int h, int size, bool segments, bool elongate = false)
    {
        int cls = rng.NextInt(ClassNames.Length);
        float scale = size / 320f;
        // A fifth small (radius 12–20 px at 320: still ≥ 12 px across when trained at imgsz 160), the rest 20–72 px.
        float r = (float)(rng.Chance(0.2) ? rng.Uniform(12, 20) : rng.Uniform(20, 72)) * scale;
        float rot = (float)rng.Uniform(0, 2 * Math.PI);
        float stroke = rng.Chance(0.35) ? (float)rng.Uniform(1.5, 3.5) * scale : 0;
        if (segments) stroke = 0; // the outline is then the shape's exact edge
        SKPoint[] poly = cls switch
        {
            0 => Regular(64, r, 0),
            1 => Regular(3, r, rot),
            2 => Regular(4, r, rot),
            3 => Star(5, r, r * (float)rng.Uniform(0.38, 0.5), rot),
            4 => Cross(r, r * (float)rng.Uniform(0.28, 0.38), rot),
            _ => Regular(6, r, rot),
        };
        // Stretched along an axis of the shape's own symmetry, so a square becomes a rectangle and a cross gets long arms.
        if (elongate) poly = Stretch(poly, (float)rng.Uniform(1.4, 2.5), cls switch
        {
            1 => rot - MathF.PI / 2 + MathF.PI / 3, // triangle: across a side (an isosceles triangle)
            2 => rot - MathF.PI / 4,                 // square: across a side (a rectangle)
            3 => rot - MathF.PI / 2,                 // star: along a point
            4 => rot + MathF.PI / 2,                 // cross: along an arm
            5 => rot - MathF.PI / 2 + MathF.PI / 6,  // hexagon: across a side
            _ => rot,                                // circle: an ellipse
        });
        bool round = cls == 0 && !elongate;
        float minX = poly.Min(p => p.X), maxX = poly.Max(p => p.X), minY = poly.Min(p => p.Y), maxY = poly.Max(p => p.Y);
        if (round) { minX = minY = -r; maxX = maxY = r; }
        float half = stroke / 2, margin = 1 + half;
        float loX = margin - minX, hiX = w - margin - maxX, loY = margin - minY, hiY = h - margin - maxY;
        if (hiX <= loX || hiY <= loY) return null;
        float cx = (float)rng.Uniform(loX, hiX), cy = (float)rng.Uniform(loY, hiY);
        for (int i = 0; i < poly.Length; i++) poly[i] = new SKPoint(poly[i].X + cx, poly[i].Y + cy);
        return new PlacedShape
        {
            Class = cls, Polygon = poly, Cx = cx, Cy = cy, Radius = r, Round = round, Stroke = stroke,
            X1 = cx + minX - half, Y1 = cy + minY - half, X2 = cx + maxX + half, Y2 = cy + maxY + half,
        };
    }

    /// <summary>
    /// An outline centred on the origin stretched by √k along the direction <paramref name="axis"/> and shrunk by √k across
    /// it (the same area, aspect k): parts that lie at an angle, for the oriented-box data.
    /// </summary>
    static SKPoint[] Stretch(SKPoint[] poly, float k, float axis)
    {
        float c = MathF.Cos(axis), s = MathF.Sin(axis), along = MathF.Sqrt(k), across = 1 / along;
        return poly.Select(p =>
        {
            float u = (p.X * c + p.Y * s) * along, v = (-p.X * s + p.Y * c) * across;
            return new SKPoint(u * c - v * s, u * s + v * c);
        }).ToArray();
    }

    /// <summary>The outline of class <paramref name="cls"/> centred on the origin (circles as a 64-gon); used by <see cref="ShapesClip"/>.</summary>
    internal static SKPoint[] Outline(int cls, float r, float rot, float innerRatio) => cls switch
    {
        0 => Regular(64, r, 0),
        1 => Regular(3, r, rot),
        2 => Regular(4, r, rot),
        3 => Star(5, r, r * innerRatio, rot),
        4 => Cross(r, r * innerRatio * 0.75f, rot),
        _ => Regular(6, r, rot),
    };

    static SKPoint[] Regular(int n, float r, float rot) =>
        Enumerable.Range(0, n).Select(i => Polar(r, rot + i * 2 * MathF.PI / n)).ToArray();

    static SKPoint[] Star(int points, float outer, float inner, float rot) =>
        Enumerable.Range(0, 2 * points).Select(i => Polar(i % 2 == 0 ? outer : inner, rot + i * MathF.PI / points)).ToArray();

    static SKPoint[] Cross(float r, float a, float rot)
    {
        // Plus sign with arm half-width a and arm length r, as 12 corners.
        var pts = new[] { (a, r), (a, a), (r, a), (r, -a), (a, -a), (a, -r), (-a, -r), (-a, -a), (-r, -a), (-r, a), (-a, a), (-a, r) };
        float c = MathF.Cos(rot), s = MathF.Sin(rot);
        return pts.Select(p => new SKPoint(p.Item1 * c - p.Item2 * s, p.Item1 * s + p.Item2 * c)).ToArray();
    }

    static SKPoint Polar(float r, float angle) => new(r * MathF.Cos(angle - MathF.PI / 2), r * MathF.Sin(angle - MathF.PI / 2));

    /// <summary>Claims the new shape's pixels unless that would hide too much of an earlier shape.</summary>
    static bool TryPlace(PlacedShape s, short[] owner, int w, int h, List<PlacedShape> placed, double minVisible)
    {
        int x0 = Math.Max(0, (int)MathF.Floor(s.X1)), x1 = Math.Min(w - 1, (int)MathF.Ceiling(s.X2));
        int y0 = Math.Max(0, (int)MathF.Floor(s.Y1)), y1 = Math.Min(h - 1, (int)MathF.Ceiling(s.Y2));
        var covered = new int[placed.Count];
        var mine = new List<int>();
        for (int y = y0; y <= y1; y++)
            for (int x = x0; x <= x1; x++)
            {
                if (!Inside(s, x + 0.5f, y + 0.5f)) continue;
                int i = y * w + x;
                mine.Add(i);
                if (owner[i] >= 0) covered[owner[i]]++;
            }
        if (mine.Count < 16) return false;
        for (int k = 0; k < placed.Count; k++)
            if (covered[k] > 0 && placed[k].Visible - covered[k] < minVisible * placed[k].Area) return false;
        for (int k = 0; k < placed.Count; k++) placed[k].Visible -= covered[k];
        s.Id = placed.Count;
        s.Area = s.Visible = mine.Count;
        foreach (var i in mine) owner[i] = (short)s.Id;
        return true;
    }

    static bool Inside(PlacedShape s, float x, float y)
    {
        float half = s.Stroke / 2;
        if (s.Round) { float dx = x - s.Cx, dy = y - s.Cy, rr = s.Radius + half; return dx * dx + dy * dy <= rr * rr; }
        var p = s.Polygon;
        bool inside = false;
        for (int i = 0, j = p.Length - 1; i < p.Length; j = i++)
        {
            if ((p[i].Y > y) != (p[j].Y > y) && x < (p[j].X - p[i].X) * (y - p[i].Y) / (p[j].Y - p[i].Y) + p[i].X) inside = !inside;
        }
        return inside;
    }

    static void DrawShape(SKCanvas canvas, SKBitmap bmp, PlacedShape s, StrixRandom rng)
    {
        var bg = MeanColor(bmp, s);
        var fill = ContrastingColor(bg, rng);
        using var path = new SKPath();
        if (s.Round) path.AddCircle(s.Cx, s.Cy, s.Radius);
        else path.AddPoly(s.Polygon, close: true);
        using var paint = new SKPaint { IsAntialias = true, Style = SKPaintStyle.Fill, Color = fill };
        if (rng.Chance(0.3))
        {
            // Soft shading across the shape, still one object.
            var light = Shade(fill, (float)rng.Uniform(-0.35, 0.35));
            double a = rng.Uniform(0, 2 * Math.PI);
            var d = new SKPoint((float)Math.Cos(a) * s.Radius, (float)Math.Sin(a) * s.Radius);
            paint.Shader = SKShader.CreateLinearGradient(new SKPoint(s.Cx - d.X, s.Cy - d.Y), new SKPoint(s.Cx + d.X, s.Cy + d.Y),
                new[] { fill, light }, SKShaderTileMode.Clamp);
        }
        canvas.DrawPath(path, paint);
        if (s.Stroke > 0)
        {
            using var outline = new SKPaint
            {
                IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeWidth = s.Stroke, StrokeJoin = SKStrokeJoin.Round,
                Color = Shade(fill, rng.Chance(0.5) ? -0.5f : 0.5f),
            };
            canvas.DrawPath(path, outline);
        }
    }

    static unsafe SKColor MeanColor(SKBitmap bmp, PlacedShape s)
    {
        long r = 0, g = 0, b = 0, n = 0;
        int x0 = Math.Max(0, (int)s.X1), x1 = Math.Min(bmp.Width - 1, (int)s.X2);
        int y0 = Math.Max(0, (int)s.Y1), y1 = Math.Min(bmp.Height - 1, (int)s.Y2);
        byte* px = (byte*)bmp.GetPixels();
        int rowBytes = bmp.RowBytes;
        for (int y = y0; y <= y1; y += 2)
            for (int x = x0; x <= x1; x += 2)
            {
                byte* c = px + (long)y * rowBytes + x * 4; // RGBA, opaque
                r += c[0]; g += c[1]; b += c[2]; n++;
            }
        return n == 0 ? SKColors.Gray : new SKColor((byte)(r / n), (byte)(g / n), (byte)(b / n));
    }

    /// <summary>A random colour clearly different from the local background (any hue: colour is not a class cue).</summary>
    static SKColor ContrastingColor(SKColor bg, StrixRandom rng)
    {
        SKColor best = SKColors.Black;
        double bestDist = -1;
        for (int i = 0; i < 12; i++)
        {
            var c = SKColor.FromHsv((float)rng.Uniform(0, 360), (float)rng.Uniform(25, 100), (float)rng.Uniform(20, 100));
            double dr = c.Red - bg.Red, dg = c.Green - bg.Green, db = c.Blue - bg.Blue;
            double dist = Math.Sqrt(dr * dr + dg * dg + db * db);
            if (dist > bestDist) { bestDist = dist; best = c; }
            if (dist > 110) break;
        }
        return best;
    }

    static SKColor Shade(SKColor c, float amount)
    {
        byte F(byte v) => (byte)Math.Clamp(amount >= 0 ? v + (255 - v) * amount : v * (1 + amount), 0, 255);
        return new SKColor(F(c.Red), F(c.Green), F(c.Blue));
    }

    static SKColor RandomColor(StrixRandom rng, float minV = 10, float maxV = 100) =>
        SKColor.FromHsv((float)rng.Uniform(0, 360), (float)rng.Uniform(0, 90), (float)rng.Uniform(minV, maxV));

    static void DrawBackground(SKCanvas canvas, int w, int h, StrixRandom rng)
    {
        using var paint = new SKPaint { IsAntialias = true };
        int kind = rng.NextInt(4);
        var c1 = RandomColor(rng); var c2 = RandomColor(rng);
        double a = rng.Uniform(0, 2 * Math.PI);
        var d = new SKPoint((float)Math.Cos(a) * w / 2, (float)Math.Sin(a) * h / 2);
        switch (kind)
        {
            case 0: // linear gradient
                paint.Shader = SKShader.CreateLinearGradient(new SKPoint(w / 2f - d.X, h / 2f - d.Y), new SKPoint(w / 2f + d.X, h / 2f + d.Y),
                    new[] { c1, c2 }, SKShaderTileMode.Clamp);
                canvas.DrawRect(0, 0, w, h, paint);
                break;
            case 1: // radial gradient
                paint.Shader = SKShader.CreateRadialGradient(new SKPoint((float)rng.Uniform(0, w), (float)rng.Uniform(0, h)),
                    (float)rng.Uniform(0.3, 1.0) * Math.Max(w, h), new[] { c1, c2 }, SKShaderTileMode.Mirror);
                canvas.DrawRect(0, 0, w, h, paint);
                break;
            case 2: // blobs: a coarse random grid scaled up smoothly
            {
                int gw = rng.NextInt(3, 9), gh = rng.NextInt(3, 9);
                using var small = new SKBitmap(new SKImageInfo(gw, gh, SKColorType.Rgba8888, SKAlphaType.Premul));
                for (int y = 0; y < gh; y++)
                    for (int x = 0; x < gw; x++)
                        small.SetPixel(x, y, rng.Chance(0.5) ? Shade(c1, (float)rng.Uniform(-0.3, 0.3)) : Shade(c2, (float)rng.Uniform(-0.3, 0.3)));
                using var img = SKImage.FromBitmap(small);
                canvas.DrawImage(img, new SKRect(0, 0, gw, gh), new SKRect(0, 0, w, h), new SKSamplingOptions(SKFilterMode.Linear), paint);
                break;
            }
            default: // flat
                canvas.Clear(c1);
                break;
        }
        if (rng.Chance(0.45))
        {
            // Stripes or a grid over the base, semi-transparent.
            using var stripe = new SKPaint { IsAntialias = true, Color = RandomColor(rng).WithAlpha((byte)rng.NextInt(40, 140)) };
            float period = (float)rng.Uniform(8, 40), width = period * (float)rng.Uniform(0.2, 0.6);
            canvas.Save();
            canvas.RotateDegrees((float)rng.Uniform(0, 180), w / 2f, h / 2f);
            float ext = w + h;
            bool grid = rng.Chance(0.3);
            for (float x = -ext; x < ext; x += period)
            {
                canvas.DrawRect(x, -ext, width, 2 * ext, stripe);
                if (grid) canvas.DrawRect(-ext, x, 2 * ext, width, stripe);
            }
            canvas.Restore();
        }
    }

    static void DrawClutter(SKCanvas canvas, int w, int h, StrixRandom rng, int count, float maxWidth)
    {
        using var paint = new SKPaint { IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeCap = SKStrokeCap.Round };
        for (int i = 0; i < count; i++)
        {
            paint.Color = RandomColor(rng, 5, 100).WithAlpha((byte)rng.NextInt(120, 256));
            paint.StrokeWidth = (float)rng.Uniform(0.8, maxWidth);
            var p0 = new SKPoint((float)rng.Uniform(0, w), (float)rng.Uniform(0, h));
            int kind = rng.NextInt(3);
            if (kind == 0)
            {
                canvas.DrawLine(p0, new SKPoint(p0.X + (float)rng.Uniform(-w / 2, w / 2), p0.Y + (float)rng.Uniform(-h / 2, h / 2)), paint);
            }
            else if (kind == 1)
            {
                // An open arc: never closes into a circle.
                float r = (float)rng.Uniform(8, 50);
                canvas.DrawArc(new SKRect(p0.X - r, p0.Y - r, p0.X + r, p0.Y + r), (float)rng.Uniform(0, 360), (float)rng.Uniform(30, 200), false, paint);
            }
            else
            {
                using var path = new SKPath();
                path.MoveTo(p0);
                var p1 = new SKPoint((float)rng.Uniform(0, w), (float)rng.Uniform(0, h));
                var c = new SKPoint((float)rng.Uniform(0, w), (float)rng.Uniform(0, h));
                path.QuadTo(c, p1);
                canvas.DrawPath(path, paint);
            }
        }
        // Small specks.
        using var dot = new SKPaint { IsAntialias = true, Style = SKPaintStyle.Fill };
        int specks = rng.NextInt(0, 25);
        for (int i = 0; i < specks; i++)
        {
            dot.Color = RandomColor(rng);
            canvas.DrawCircle((float)rng.Uniform(0, w), (float)rng.Uniform(0, h), (float)rng.Uniform(0.5, 2.0), dot);
        }
    }

    static void AddNoise(RgbImage img, StrixRandom rng)
    {
        double sigma = rng.Uniform(0, 10);
        if (sigma < 1) return;
        var p = img.Pixels;
        for (int i = 0; i < p.Length; i++)
        {
            // Sum of two uniforms: cheap, roughly bell-shaped grain.
            double n = (rng.NextDouble() + rng.NextDouble() - 1) * sigma * 1.7;
            p[i] = (byte)Math.Clamp(p[i] + n, 0, 255);
        }
    }
}
