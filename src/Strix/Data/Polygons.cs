namespace Strix.Data;

/// <summary>
/// Polygon geometry for segmentation labels, on flat <c>x1 y1 x2 y2 …</c> arrays: resampling along the outline, the box
/// of the part inside an image, and rasterisation to a mask.
/// </summary>
public static class Polygons
{
    /// <summary>
    /// <paramref name="n"/> points spaced evenly along the closed outline (by arc length), starting at the first vertex.
    /// A degenerate outline (all vertices equal) repeats its point.
    /// </summary>
    public static float[] Resample(float[] xy, int n)
    {
        if (xy.Length < 2 || xy.Length % 2 != 0) throw new ArgumentException("a polygon needs x y pairs");
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n));
        int m = xy.Length / 2;
        var cum = new double[m + 1]; // arc length at each vertex, the closing edge last
        for (int i = 0; i < m; i++)
        {
            int j = (i + 1) % m;
            double dx = xy[2 * j] - xy[2 * i], dy = xy[2 * j + 1] - xy[2 * i + 1];
            cum[i + 1] = cum[i] + Math.Sqrt(dx * dx + dy * dy);
        }
        double total = cum[m];
        var r = new float[2 * n];
        int e = 0;
        for (int k = 0; k < n; k++)
        {
            double t = total * k / n;
            while (e < m - 1 && cum[e + 1] <= t) e++;
            double len = cum[e + 1] - cum[e];
            double f = len > 0 ? (t - cum[e]) / len : 0;
            int a = e, b = (e + 1) % m;
            r[2 * k] = (float)(xy[2 * a] + f * (xy[2 * b] - xy[2 * a]));
            r[2 * k + 1] = (float)(xy[2 * a + 1] + f * (xy[2 * b + 1] - xy[2 * a + 1]));
        }
        return r;
    }

    /// <summary>
    /// The box of the points inside [0, w]×[0, h] (Ultralytics' segment2box after a warp: points pushed outside
    /// the image no longer count), or null when none is inside.
    /// </summary>
    public static (float X1, float Y1, float X2, float Y2)? BoxInside(float[] xy, float w, float h)
    {
        float x1 = float.MaxValue, y1 = float.MaxValue, x2 = float.MinValue, y2 = float.MinValue;
        bool any = false;
        for (int i = 0; i < xy.Length; i += 2)
        {
            float x = xy[i], y = xy[i + 1];
            if (!(x >= 0 && y >= 0 && x <= w && y <= h)) continue;
            any = true;
            x1 = MathF.Min(x1, x); x2 = MathF.Max(x2, x);
            y1 = MathF.Min(y1, y); y2 = MathF.Max(y2, y);
        }
        return any ? (x1, y1, x2, y2) : null;
    }

    /// <summary>
    /// Fills the polygon (image pixels, divided by <paramref name="ratio"/>) into a <paramref name="width"/>×<paramref name="height"/>
    /// mask starting at <paramref name="offset"/> with <paramref name="value"/>: a pixel belongs to it when its centre is inside
    /// (even-odd rule, edges half-open, so two polygons sharing an edge never both claim a pixel). Returns the pixels set.
    /// </summary>
    public static int Fill(float[] xy, double ratio, byte[] mask, int width, int height, byte value, int offset = 0) =>
        Runs(xy, ratio, width, height, (start, length) => Array.Fill(mask, value, offset + start, length));

    /// <summary>The pixels <see cref="Fill(float[], double, byte[], int, int, byte, int)"/> would set, without a mask to set them in.</summary>
    public static int PixelCount(float[] xy, double ratio, int width, int height) => Runs(xy, ratio, width, height, (_, _) => { });

    /// <summary>As the byte overload, for index masks that may hold more than 255 objects.</summary>
    public static int Fill(float[] xy, double ratio, ushort[] mask, int width, int height, ushort value, int offset = 0) =>
        Runs(xy, ratio, width, height, (start, length) => Array.Fill(mask, value, offset + start, length));

    /// <summary>Calls <paramref name="run"/>(first pixel, length) for each horizontal run of pixels inside; returns their total.</summary>
    static int Runs(float[] xy, double ratio, int width, int height, Action<int, int> run)
    {
        int m = xy.Length / 2;
        if (m < 3) return 0;
        double minY = double.MaxValue, maxY = double.MinValue;
        for (int i = 1; i < xy.Length; i += 2) { minY = Math.Min(minY, xy[i] / ratio); maxY = Math.Max(maxY, xy[i] / ratio); }
        int r0 = Math.Max(0, (int)Math.Ceiling(minY - 0.5)), r1 = Math.Min(height - 1, (int)Math.Ceiling(maxY - 0.5) - 1);
        var xs = new List<double>(16);
        int set = 0;
        for (int row = r0; row <= r1; row++)
        {
            double yc = row + 0.5;
            xs.Clear();
            for (int i = 0; i < m; i++)
            {
                int j = (i + 1) % m;
                double ya = xy[2 * i + 1] / ratio, yb = xy[2 * j + 1] / ratio;
                if ((ya <= yc && yc < yb) || (yb <= yc && yc < ya))
                {
                    double xa = xy[2 * i] / ratio, xb = xy[2 * j] / ratio;
                    xs.Add(xa + (yc - ya) * (xb - xa) / (yb - ya));
                }
            }
            xs.Sort();
            for (int k = 0; k + 1 < xs.Count; k += 2)
            {
                int c0 = Math.Max(0, (int)Math.Ceiling(xs[k] - 0.5)), c1 = Math.Min(width - 1, (int)Math.Ceiling(xs[k + 1] - 0.5) - 1);
                if (c1 < c0) continue;
                run(row * width + c0, c1 - c0 + 1);
                set += c1 - c0 + 1;
            }
        }
        return set;
    }
    /// <summary>
    /// The smallest-area rectangle around points (x y pairs) as xywhr in its regular form (w ≥ h, angle in [0, π)): what
    /// OpenCV's minAreaRect gives Ultralytics for an OBB label's four corners. Rotating calipers over the convex hull:
    /// the best rectangle has a side on a hull edge.
    /// </summary>
    public static (float Cx, float Cy, float W, float H, float Angle) MinAreaRect(ReadOnlySpan<float> xy)
    {
        var hull = ConvexHull(xy);
        if (hull.Count == 1) return ((float)hull[0].X, (float)hull[0].Y, 0, 0, 0);
        double bestArea = double.MaxValue;
        (double Cx, double Cy, double W, double H, double A) best = default;
        for (int i = 0; i < hull.Count; i++)
        {
            var (ax, ay) = hull[i];
            var (bx, by) = hull[(i + 1) % hull.Count];
            double len = Math.Sqrt((bx - ax) * (bx - ax) + (by - ay) * (by - ay));
            if (len < 1e-12) continue;
            double ux = (bx - ax) / len, uy = (by - ay) / len; // the edge direction; its normal is (−uy, ux)
            double minU = double.MaxValue, maxU = double.MinValue, minV = double.MaxValue, maxV = double.MinValue;
            foreach (var (px, py) in hull)
            {
                double u = px * ux + py * uy, v = -px * uy + py * ux;
                minU = Math.Min(minU, u); maxU = Math.Max(maxU, u); minV = Math.Min(minV, v); maxV = Math.Max(maxV, v);
            }
            double area = (maxU - minU) * (maxV - minV);
            if (area >= bestArea - 1e-12) continue;
            bestArea = area;
            double cu = (minU + maxU) / 2, cv = (minV + maxV) / 2;
            best = (cu * ux - cv * uy, cu * uy + cv * ux, maxU - minU, maxV - minV, Math.Atan2(uy, ux));
        }
        var (cx, cy, w, h, a) = best;
        if (w < h) { (w, h) = (h, w); a += Math.PI / 2; }
        a %= Math.PI;
        if (a < 0) a += Math.PI;
        if (a >= Math.PI - 1e-9) a = 0;
        return ((float)cx, (float)cy, (float)w, (float)h, (float)a);
    }

    /// <summary>Andrew's monotone chain: the convex hull counter-clockwise, without collinear points.</summary>
    static List<(double X, double Y)> ConvexHull(ReadOnlySpan<float> xy)
    {
        if (xy.Length < 2 || xy.Length % 2 != 0) throw new ArgumentException($"{xy.Length} numbers are not x y pairs");
        var pts = new List<(double X, double Y)>(xy.Length / 2);
        for (int i = 0; i < xy.Length; i += 2) pts.Add((xy[i], xy[i + 1]));
        pts = pts.Distinct().OrderBy(p => p.X).ThenBy(p => p.Y).ToList();
        if (pts.Count < 3) return pts;
        static double Cross((double X, double Y) o, (double X, double Y) a, (double X, double Y) b) => (a.X - o.X) * (b.Y - o.Y) - (a.Y - o.Y) * (b.X - o.X);
        var hull = new List<(double X, double Y)>();
        foreach (var pass in new[] { pts, Enumerable.Reverse(pts).ToList() })
        {
            int start = hull.Count;
            foreach (var p in pass)
            {
                while (hull.Count >= start + 2 && Cross(hull[^2], hull[^1], p) <= 0) hull.RemoveAt(hull.Count - 1);
                hull.Add(p);
            }
            hull.RemoveAt(hull.Count - 1);
        }
        return hull;
    }

    /// <summary>A rotated rectangle's corners x1 y1 … x4 y4 (Ultralytics' xyxyxyxy): centre ± the rotated half-axes.</summary>
    public static float[] RectCorners(float cx, float cy, float w, float h, float angle)
    {
        float c = MathF.Cos(angle), s = MathF.Sin(angle);
        float wx = w / 2 * c, wy = w / 2 * s, hx = -h / 2 * s, hy = h / 2 * c;
        return new[] { cx + wx + hx, cy + wy + hy, cx + wx - hx, cy + wy - hy, cx - wx - hx, cy - wy - hy, cx - wx + hx, cy - wy + hy };
    }
}
