using Strix.Data;

namespace Strix.Tests.Data;

public class MaskContoursTests
{
    static byte[] Mask(int w, int h, params (int X, int Y)[] on)
    {
        var m = new byte[w * h];
        foreach (var (x, y) in on) m[y * w + x] = 1;
        return m;
    }

    static byte[] Refill(float[] polygon, int w, int h)
    {
        var m = new byte[w * h];
        Polygons.Fill(polygon, 1, m, w, h, 1);
        return m;
    }

    [Fact]
    public void One_pixel_is_its_four_corners_clockwise()
    {
        Assert.Equal(new float[] { 2, 1, 3, 1, 3, 2, 2, 2 }, MaskContours.Largest(Mask(5, 4, (2, 1)), 5, 4));
    }

    [Fact]
    public void A_block_keeps_only_its_corners()
    {
        var m = Mask(6, 5, (1, 1), (2, 1), (3, 1), (1, 2), (2, 2), (3, 2));
        Assert.Equal(new float[] { 1, 1, 4, 1, 4, 3, 1, 3 }, MaskContours.Largest(m, 6, 5));
    }

    [Fact]
    public void An_l_shape_has_six_corners_and_fills_back_to_itself()
    {
        // ##
        // #
        var m = Mask(3, 3, (0, 0), (1, 0), (0, 1));
        var p = MaskContours.Largest(m, 3, 3);
        Assert.Equal(new float[] { 0, 0, 2, 0, 2, 1, 1, 1, 1, 2, 0, 2 }, p);
        Assert.Equal(m, Refill(p, 3, 3));
    }

    [Fact]
    public void Diagonal_neighbours_are_one_region()
    {
        var m = Mask(3, 3, (0, 0), (1, 1));
        var p = MaskContours.Largest(m, 3, 3);
        Assert.Equal(new float[] { 0, 0, 1, 0, 1, 1, 2, 1, 2, 2, 1, 2, 1, 1, 0, 1 }, p);
        Assert.Equal(m, Refill(p, 3, 3));
    }

    [Fact]
    public void The_largest_region_wins_and_an_empty_mask_has_no_outline()
    {
        var m = Mask(8, 3, (0, 0), (4, 1), (5, 1), (6, 1), (4, 2), (5, 2), (6, 2));
        Assert.Equal(new float[] { 4, 1, 7, 1, 7, 3, 4, 3 }, MaskContours.Largest(m, 8, 3));
        Assert.Empty(MaskContours.Largest(new byte[12], 4, 3));
    }

    [Fact]
    public void Filled_polygons_trace_and_fill_back_exactly()
    {
        var rng = new Random(7);
        for (int t = 0; t < 50; t++)
        {
            int w = rng.Next(8, 40), h = rng.Next(8, 40);
            // A random convex-ish polygon: points around a centre at increasing angles.
            int n = rng.Next(3, 9);
            var angles = Enumerable.Range(0, n).Select(_ => rng.NextDouble() * 2 * Math.PI).Order().ToArray();
            double cx = w / 2.0, cy = h / 2.0, r = Math.Min(w, h) * 0.45;
            var poly = angles.SelectMany(a => new[] { (float)(cx + r * Math.Cos(a)), (float)(cy + r * Math.Sin(a)) }).ToArray();
            var m = Refill(poly, w, h);
            if (m.All(v => v == 0)) continue;
            var traced = MaskContours.Largest(m, w, h);
            var largestOnly = Refill(traced, w, h);
            // A thin sliver may split into diagonal-free pieces; the largest piece must come back exactly.
            Assert.True(largestOnly.Zip(m).All(z => z.First == 0 || z.Second == 1), $"case {t}: the outline covers pixels outside the mask");
            if (IsOneRegion(m, w, h)) Assert.Equal(m, largestOnly);
        }
    }

    static bool IsOneRegion(byte[] m, int w, int h)
    {
        int first = Array.IndexOf(m, (byte)1);
        var seen = new bool[m.Length];
        var stack = new Stack<int>(new[] { first });
        seen[first] = true;
        int count = 0;
        while (stack.Count > 0)
        {
            int q = stack.Pop(); count++;
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++)
                {
                    int x = q % w + dx, y = q / w + dy;
                    if (x < 0 || y < 0 || x >= w || y >= h) continue;
                    int r = y * w + x;
                    if (m[r] == 1 && !seen[r]) { seen[r] = true; stack.Push(r); }
                }
        }
        return count == m.Count(v => v == 1);
    }
}
