namespace Strix.Data;

/// <summary>
/// The outline of a binary mask as a polygon: the largest 8-connected region's outer boundary, traced along the pixel
/// edges (so its vertices are pixel corners, and only the corners where the boundary turns are kept). Filling the
/// polygon at pixel centres (<see cref="Polygons.Fill(float[], double, byte[], int, int, byte, int)"/>) gives back
/// the region exactly, holes aside — which is what a predicted mask needs to become a training label again.
/// </summary>
public static class MaskContours
{
    // Travel directions on the pixel-corner lattice, clockwise in image coordinates (y down): east, south, west, north.
    static readonly int[] Dx = { 1, 0, -1, 0 };
    static readonly int[] Dy = { 0, 1, 0, -1 };

    /// <summary>
    /// The largest region's outline of <paramref name="mask"/> (row-major <paramref name="width"/>×<paramref name="height"/>,
    /// non-zero inside) as x, y pairs in pixels, clockwise; empty for an empty mask.
    /// </summary>
    public static float[] Largest(ReadOnlySpan<byte> mask, int width, int height)
    {
        if (mask.Length != width * height) throw new ArgumentException($"a {width}×{height} mask needs {width * height} values, got {mask.Length}", nameof(mask));
        int start = LargestRegionStart(mask, width, height);
        return start < 0 ? Array.Empty<float>() : Trace(mask, width, height, start % width, start / width);
    }

    /// <summary>The first pixel, in raster order, of the largest 8-connected region; −1 when the mask is empty.</summary>
    static int LargestRegionStart(ReadOnlySpan<byte> mask, int width, int height)
    {
        var label = new int[mask.Length];
        var stack = new Stack<int>();
        int best = -1, bestSize = 0, next = 0;
        for (int p = 0; p < mask.Length; p++)
        {
            if (mask[p] == 0 || label[p] != 0) continue;
            next++;
            int size = 0;
            label[p] = next;
            stack.Push(p);
            while (stack.Count > 0)
            {
                int q = stack.Pop();
                size++;
                int qx = q % width, qy = q / width;
                for (int ny = Math.Max(0, qy - 1); ny <= Math.Min(height - 1, qy + 1); ny++)
                    for (int nx = Math.Max(0, qx - 1); nx <= Math.Min(width - 1, qx + 1); nx++)
                    {
                        int r = ny * width + nx;
                        if (mask[r] != 0 && label[r] == 0) { label[r] = next; stack.Push(r); }
                    }
            }
            if (size > bestSize) { bestSize = size; best = p; } // p is the region's first pixel in raster order
        }
        return best;
    }

    /// <summary>
    /// Follows the boundary from the top edge of (<paramref name="x0"/>, <paramref name="y0"/>), the region's first pixel,
    /// keeping the region on the right. At each corner: turn left when the pixel ahead-left is inside (8-connectivity joins
    /// diagonal neighbours), go on when only the pixel ahead-right is, turn right otherwise.
    /// </summary>
    static float[] Trace(ReadOnlySpan<byte> mask, int width, int height, int x0, int y0)
    {
        var points = new List<float>();
        int x = x0, y = y0, d = 0;
        points.Add(x); points.Add(y);
        do
        {
            x += Dx[d]; y += Dy[d];
            var (lx, ly, rx, ry) = Ahead(x, y, d);
            int nd = Inside(mask, width, height, lx, ly) ? (d + 3) % 4 : Inside(mask, width, height, rx, ry) ? d : (d + 1) % 4;
            if (nd != d && !(x == x0 && y == y0 && nd == 0)) { points.Add(x); points.Add(y); }
            d = nd;
        }
        while (!(x == x0 && y == y0 && d == 0));
        return points.ToArray();
    }

    /// <summary>The pixels ahead-left and ahead-right of corner (x, y) when travelling in direction d.</summary>
    static (int Lx, int Ly, int Rx, int Ry) Ahead(int x, int y, int d) => d switch
    {
        0 => (x, y - 1, x, y),         // east: left is the row above
        1 => (x, y, x - 1, y),         // south: left is the column to the east
        2 => (x - 1, y, x - 1, y - 1), // west: left is the row below
        _ => (x - 1, y - 1, x, y - 1), // north: left is the column to the west
    };

    static bool Inside(ReadOnlySpan<byte> mask, int width, int height, int x, int y) =>
        (uint)x < (uint)width && (uint)y < (uint)height && mask[y * width + x] != 0;
}
