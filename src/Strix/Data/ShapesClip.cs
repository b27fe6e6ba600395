using SkiaSharp;
using Strix.Runtime;

namespace Strix.Data;

/// <summary>Size, length and seed of a generated <see cref="ShapesClip"/>.</summary>
public sealed record ShapesClipOptions
{
    public int Seed { get; init; } = 0;
    public int Width { get; init; } = 320;
    public int Height { get; init; } = 240;
    public int Frames { get; init; } = 120;
    public double Fps { get; init; } = 25;
    /// <summary>Moving objects, the designed crossing pair included (at least 2).</summary>
    public int Objects { get; init; } = 8;
}

/// <summary>A ground-truth object in one frame of a clip: its id, class, box (clipped to the frame) and visible fraction.</summary>
public readonly record struct ClipObject(int Id, int ClassId, float X1, float Y1, float X2, float Y2, double Visibility)
{
    public float CenterX => (X1 + X2) / 2;
    public float CenterY => (Y1 + Y2) / 2;
}

/// <summary>
/// A synthetic video of the <c>shapes</c> classes moving on straight lines, with ground truth per frame, so
/// tracking can be measured with no download. Objects enter and leave through the edges, some are present from
/// the first frame, and two are sent on a head-on crossing where one passes in front of the other (a full
/// occlusion). Higher ids are drawn on top. An object is in a frame's ground truth while at least
/// <see cref="MinVisibility"/> of its area is visible (inside the frame and not covered).
/// </summary>
public sealed class ShapesClip : IDisposable
{
    /// <summary>Ground truth keeps an object while this fraction of its area is visible.</summary>
    public const double MinVisibility = 0.4;

    sealed class Mover
    {
        public int Id, Class, Start, End;
        public float R, X0, Y0, Vx, Vy, Stroke;
        public SKPoint[] Outline = Array.Empty<SKPoint>();
        public SKColor Fill, Edge;
        public (float X, float Y) At(int f) => (X0 + Vx * (f - Start), Y0 + Vy * (f - Start));
        public bool Alive(int f) => f >= Start && f <= End;
    }

    readonly List<Mover> _movers = new();
    readonly SKBitmap _background;
    readonly List<IReadOnlyList<ClipObject>> _truth = new();

    public ShapesClip(ShapesClipOptions? options = null)
    {
        Options = options ?? new ShapesClipOptions();
        if (Options.Width < 64 || Options.Height < 64 || Options.Frames < 1 || Options.Objects < 2 || !(Options.Fps > 0))
            throw new ArgumentException($"shapes clip {Options}: needs ≥ 64×64 pixels, ≥ 1 frame, ≥ 2 objects and fps > 0");
        var rng = new StrixRandom(Options.Seed, stream: 7);
        _background = Background(rng);
        PlaceMovers(rng);
        for (int f = 0; f < Options.Frames; f++) _truth.Add(Truth(f));
    }

    /// <summary>Frees the background bitmap (native memory).</summary>
    public void Dispose() => _background.Dispose();

    public ShapesClipOptions Options { get; }
    public int FrameCount => Options.Frames;

    /// <summary>Objects visible enough in each frame (index = frame).</summary>
    public IReadOnlyList<IReadOnlyList<ClipObject>> GroundTruth => _truth;

    /// <summary>Every object's id and class.</summary>
    public IReadOnlyList<(int Id, int ClassId)> Objects => _movers.Select(m => (m.Id, m.Class)).ToList();

    /// <summary>The true centre of object <paramref name="id"/> at frame <paramref name="frame"/>, when it exists then.</summary>
    public (float X, float Y)? Center(int id, int frame) =>
        _movers.FirstOrDefault(m => m.Id == id) is { } m && m.Alive(frame) ? m.At(frame) : null;

    /// <summary>Draws frame <paramref name="frame"/>.</summary>
    public RgbImage Render(int frame)
    {
        using var bmp = _background.Copy();
        using var canvas = new SKCanvas(bmp);
        using var fill = new SKPaint { IsAntialias = true, Style = SKPaintStyle.Fill };
        using var edge = new SKPaint { IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeJoin = SKStrokeJoin.Round };
        foreach (var m in _movers.Where(m => m.Alive(frame)))
        {
            var (x, y) = m.At(frame);
            using var path = new SKPath();
            if (m.Class == 0) path.AddCircle(x, y, m.R);
            else path.AddPoly(m.Outline.Select(p => new SKPoint(p.X + x, p.Y + y)).ToArray(), close: true);
            fill.Color = m.Fill;
            canvas.DrawPath(path, fill);
            if (m.Stroke > 0) { edge.Color = m.Edge; edge.StrokeWidth = m.Stroke; canvas.DrawPath(path, edge); }
        }
        canvas.Flush();
        return ImageIO.FromBitmap(bmp);
    }

    /// <summary>All frames in order.</summary>
    public IEnumerable<RgbImage> Frames()
    {
        for (int f = 0; f < Options.Frames; f++) yield return Render(f);
    }

    void PlaceMovers(StrixRandom rng)
    {
        int w = Options.Width, h = Options.Height, n = Options.Frames;
        float scale = Math.Min(w, h) / 240f;
        // The crossing pair: same row, opposite directions, meeting mid-frame a third of the way in.
        float rPair = 22 * scale;
        int meet = Math.Max(2, n / 3);
        float v = (w / 2f + rPair) / Math.Max(1, meet);
        // A circle behind, a larger square in front whose inscribed circle covers it: a full occlusion.
        Add(rng, 1, 0, rPair * 0.8f, -rPair, h / 2f, v, 0, start: 0);
        Add(rng, 2, 2, rPair * 1.25f, w + rPair, h / 2f, -v, 0, start: 0);
        for (int id = 3; id <= Options.Objects; id++)
            for (int attempt = 0; ; attempt++)
            {
                // Crossings are wanted, travelling together is not: a candidate that would overlap another object
                // for more than MaxOverlapFrames frames in a row is drawn again (up to 50 times).
                PlaceRandom(rng, id, w, h, n, scale);
                if (attempt >= 50 || LongestOverlap(_movers[^1]) <= MaxOverlapFrames) break;
                _movers.RemoveAt(_movers.Count - 1);
            }
    }

    /// <summary>Two random objects may overlap for at most this many consecutive frames.</summary>
    const int MaxOverlapFrames = 10;

    int LongestOverlap(Mover m)
    {
        int longest = 0;
        foreach (var other in _movers)
        {
            if (other == m) continue;
            int run = 0;
            for (int f = Math.Max(m.Start, other.Start); f <= Math.Min(m.End, other.End); f++)
            {
                var (ax, ay) = m.At(f);
                var (bx, by) = other.At(f);
                float d = m.R + other.R;
                run = (ax - bx) * (ax - bx) + (ay - by) * (ay - by) < d * d ? run + 1 : 0;
                longest = Math.Max(longest, run);
            }
        }
        return longest;
    }

    void PlaceRandom(StrixRandom rng, int id, int w, int h, int n, float scale)
    {
        int cls = rng.NextInt(ShapesDataset.ClassNames.Length);
        float r = (float)rng.Uniform(14, 30) * scale;
        float speed = (float)rng.Uniform(1.2, 3.5) * scale;
        // Two start inside the frame on the first frame; the rest enter through an edge later.
        if (id <= 4)
        {
            float x = (float)rng.Uniform(r + 4, w - r - 4), y = (float)rng.Uniform(r + 4, h - r - 4);
            double a = rng.Uniform(0, 2 * Math.PI);
            Add(rng, id, cls, r, x, y, speed * (float)Math.Cos(a), speed * (float)Math.Sin(a), start: 0);
            return;
        }
        int side = rng.NextInt(4);
        (float sx, float sy) = side switch
        {
            0 => (-r, (float)rng.Uniform(r, h - r)),
            1 => (w + r, (float)rng.Uniform(r, h - r)),
            2 => ((float)rng.Uniform(r, w - r), -r),
            _ => ((float)rng.Uniform(r, w - r), h + r),
        };
        float tx = (float)rng.Uniform(w * 0.25, w * 0.75), ty = (float)rng.Uniform(h * 0.25, h * 0.75);
        float len = MathF.Max(1e-3f, MathF.Sqrt((tx - sx) * (tx - sx) + (ty - sy) * (ty - sy)));
        Add(rng, id, cls, r, sx, sy, speed * (tx - sx) / len, speed * (ty - sy) / len, start: rng.NextInt(Math.Max(1, (int)(n * 0.6))));
    }

    void Add(StrixRandom rng, int id, int cls, float r, float x0, float y0, float vx, float vy, int start)
    {
        var m = new Mover
        {
            Id = id, Class = cls, R = r, X0 = x0, Y0 = y0, Vx = vx, Vy = vy, Start = start,
            Stroke = rng.Chance(0.5) ? 2f : 0,
            Outline = ShapesDataset.Outline(cls, r, (float)rng.Uniform(0, 2 * Math.PI), (float)rng.Uniform(0.4, 0.5)),
            Fill = SKColor.FromHsl((float)rng.Uniform(0, 360), (float)rng.Uniform(55, 90), (float)rng.Uniform(55, 75)),
        };
        m.Edge = SKColor.FromHsl(0, 0, 15);
        // It lives until its box has left the frame for good (or the clip ends).
        m.End = Options.Frames - 1;
        for (int f = start + 1; f < Options.Frames; f++)
        {
            var (x, y) = m.At(f);
            if (x + r < 0 || x - r > Options.Width || y + r < 0 || y - r > Options.Height)
            {
                bool leaving = (x < 0 && vx < 0) || (x > Options.Width && vx > 0) || (y < 0 && vy < 0) || (y > Options.Height && vy > 0);
                if (leaving) { m.End = f - 1; break; }
            }
        }
        _movers.Add(m);
    }

    IReadOnlyList<ClipObject> Truth(int f)
    {
        var alive = _movers.Where(m => m.Alive(f)).ToList();
        var list = new List<ClipObject>();
        for (int k = 0; k < alive.Count; k++)
        {
            var m = alive[k];
            var (cx, cy) = m.At(f);
            float half = m.Stroke / 2;
            float bx1 = cx + m.Outline.Min(p => p.X) - half, bx2 = cx + m.Outline.Max(p => p.X) + half;
            float by1 = cy + m.Outline.Min(p => p.Y) - half, by2 = cy + m.Outline.Max(p => p.Y) + half;
            if (m.Class == 0) { bx1 = cx - m.R - half; bx2 = cx + m.R + half; by1 = cy - m.R - half; by2 = cy + m.R + half; }
            // Visible fraction by pixel centres: inside the frame and under no later (higher) object.
            int total = 0, visible = 0;
            for (int py = (int)MathF.Floor(by1); py <= (int)MathF.Ceiling(by2); py++)
                for (int px = (int)MathF.Floor(bx1); px <= (int)MathF.Ceiling(bx2); px++)
                {
                    float x = px + 0.5f, y = py + 0.5f;
                    if (!Inside(m, cx, cy, x, y)) continue;
                    total++;
                    if (px < 0 || py < 0 || px >= Options.Width || py >= Options.Height) continue;
                    bool covered = false;
                    for (int j = k + 1; j < alive.Count && !covered; j++)
                    {
                        var (ox, oy) = alive[j].At(f);
                        covered = Inside(alive[j], ox, oy, x, y);
                    }
                    if (!covered) visible++;
                }
            double vis = total == 0 ? 0 : (double)visible / total;
            if (vis < MinVisibility) continue;
            list.Add(new ClipObject(m.Id, m.Class, Math.Max(0, bx1), Math.Max(0, by1), Math.Min(Options.Width, bx2), Math.Min(Options.Height, by2), vis));
        }
        return list;
    }

    static bool Inside(Mover m, float cx, float cy, float x, float y)
    {
        float dx = x - cx, dy = y - cy;
        if (m.Class == 0) return dx * dx + dy * dy <= m.R * m.R;
        bool inside = false;
        var p = m.Outline;
        for (int i = 0, j = p.Length - 1; i < p.Length; j = i++)
            if ((p[i].Y > dy) != (p[j].Y > dy) && dx < (p[j].X - p[i].X) * (dy - p[i].Y) / (p[j].Y - p[i].Y) + p[i].X)
                inside = !inside;
        return inside;
    }

    SKBitmap Background(StrixRandom rng)
    {
        int w = Options.Width, h = Options.Height;
        var bmp = new SKBitmap(new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Premul));
        using var canvas = new SKCanvas(bmp);
        var top = SKColor.FromHsl((float)rng.Uniform(0, 360), 25, 28);
        var bottom = SKColor.FromHsl((float)rng.Uniform(0, 360), 25, 40);
        using var paint = new SKPaint
        {
            Shader = SKShader.CreateLinearGradient(new SKPoint(0, 0), new SKPoint(0, h), new[] { top, bottom }, SKShaderTileMode.Clamp),
        };
        canvas.DrawRect(0, 0, w, h, paint);
        using var blob = new SKPaint { IsAntialias = true, Color = SKColor.FromHsl((float)rng.Uniform(0, 360), 20, 34).WithAlpha(120) };
        for (int i = 0; i < 4; i++)
            canvas.DrawOval((float)rng.Uniform(0, w), (float)rng.Uniform(0, h), (float)rng.Uniform(20, 60), (float)rng.Uniform(10, 40), blob);
        canvas.Flush();
        return bmp;
    }
}
