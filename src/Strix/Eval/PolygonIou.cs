namespace Strix.Eval;

/// <summary>
/// Exact IoU of convex polygons (rotated rectangles given by their corners, <c>x1 y1 x2 y2 …</c>): the intersection is
/// one polygon clipped by the other's edges (Sutherland–Hodgman), its area by the shoelace formula. This is the measure
/// DOTA's evaluator matches oriented boxes with; the metrics of OBB validation use it.
/// </summary>
public static class PolygonIou
{
    /// <summary>IoU of two convex polygons (any winding, at least 3 points each); 0 when either has no area.</summary>
    public static double Iou(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double areaA = Math.Abs(SignedArea(a)), areaB = Math.Abs(SignedArea(b));
        if (areaA <= 0 || areaB <= 0) return 0;
        double inter = IntersectionArea(a, b);
        double union = areaA + areaB - inter;
        return union > 0 ? Math.Clamp(inter / union, 0, 1) : 0;
    }

    /// <summary>Row-major [n, m] IoU of each polygon of <paramref name="a"/> with each of <paramref name="b"/>, <paramref name="stride"/> floats per polygon (8: four corners).</summary>
    public static float[] Matrix(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int stride = 8)
    {
        int n = a.Length / stride, m = b.Length / stride;
        var r = new float[n * m];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < m; j++)
                r[i * m + j] = (float)Iou(a.Slice(i * stride, stride), b.Slice(j * stride, stride));
        return r;
    }

    /// <summary>Area of a polygon, positive when its points run counter-clockwise in a y-up frame.</summary>
    public static double SignedArea(ReadOnlySpan<float> p)
    {
        int n = p.Length / 2;
        double s = 0;
        for (int i = 0; i < n; i++)
        {
            int j = (i + 1) % n;
            s += (double)p[2 * i] * p[2 * j + 1] - (double)p[2 * j] * p[2 * i + 1];
        }
        return s / 2;
    }

    /// <summary>Area of the intersection of two convex polygons.</summary>
    public static double IntersectionArea(ReadOnlySpan<float> subject, ReadOnlySpan<float> clip)
    {
        int nc = clip.Length / 2;
        if (nc < 3 || subject.Length < 6) return 0;
        var poly = new List<(double X, double Y)>(subject.Length);
        for (int i = 0; i < subject.Length; i += 2) poly.Add((subject[i], subject[i + 1]));
        // Inside means on the interior side of each clip edge, whichever way the clip polygon winds.
        double orient = Math.Sign(SignedArea(clip));
        var next = new List<(double X, double Y)>(poly.Count + 4);
        for (int e = 0; e < nc && poly.Count > 0; e++)
        {
            double ax = clip[2 * e], ay = clip[2 * e + 1];
            double bx = clip[2 * ((e + 1) % nc)], by = clip[2 * ((e + 1) % nc) + 1];
            double Side((double X, double Y) q) => orient * ((bx - ax) * (q.Y - ay) - (by - ay) * (q.X - ax));
            next.Clear();
            for (int i = 0; i < poly.Count; i++)
            {
                var cur = poly[i];
                var prev = poly[(i + poly.Count - 1) % poly.Count];
                double sc = Side(cur), sp = Side(prev);
                if (sc >= 0)
                {
                    if (sp < 0) next.Add(Cross(prev, cur, sp, sc));
                    next.Add(cur);
                }
                else if (sp >= 0) next.Add(Cross(prev, cur, sp, sc));
            }
            (poly, next) = (next, poly);
        }
        if (poly.Count < 3) return 0;
        double s = 0;
        for (int i = 0; i < poly.Count; i++)
        {
            var p = poly[i];
            var q = poly[(i + 1) % poly.Count];
            s += p.X * q.Y - q.X * p.Y;
        }
        return Math.Abs(s) / 2;
    }

    /// <summary>Where the segment p→q crosses the clip line, from the points' signed distances to it.</summary>
    static (double X, double Y) Cross((double X, double Y) p, (double X, double Y) q, double sp, double sq)
    {
        double t = sp / (sp - sq);
        return (p.X + t * (q.X - p.X), p.Y + t * (q.Y - p.Y));
    }
}
