using Strix.Runtime;
namespace Strix.Data;

/// <summary>
/// YOLO's 4-image mosaic: four images (each already resized to long side <c>imgsz</c>) are placed
/// around a random centre on a 2·imgsz grey canvas, their boxes shifted with them and clipped to the
/// canvas. The canvas then goes through <see cref="RandomPerspective"/> with a border of −imgsz/2,
/// which crops it back to imgsz×imgsz.
/// </summary>
public static class Mosaic
{
    /// <summary>Builds the 2·<paramref name="imgsz"/> canvas from four (image, labels-in-that-image's-pixels) pairs.</summary>
    public static (RgbImage Canvas, Instances Labels) Combine(IReadOnlyList<(RgbImage Image, Instances Labels)> tiles, int imgsz, StrixRandom rng)
    {
        if (tiles.Count != 4) throw new ArgumentException("a mosaic needs exactly 4 images");
        int s = imgsz, size = 2 * s;
        // Centre in [s/2, 3s/2): the mosaic border is −s/2 on each side.
        int xc = (int)rng.Uniform(s / 2.0, 2 * s - s / 2.0);
        int yc = (int)rng.Uniform(s / 2.0, 2 * s - s / 2.0);
        var px = GC.AllocateUninitializedArray<byte>(size * size * 3);
        px.AsSpan().Fill(114); // grey in all three channels: one memset
        var canvas = new RgbImage(size, size, px);
        var parts = new List<Instances>(4);
        for (int i = 0; i < 4; i++)
        {
            var (img, labels) = tiles[i];
            int w = img.Width, h = img.Height;
            // Destination rectangle on the canvas (a) and the matching source rectangle in the tile (b).
            int x1a, y1a, x2a, y2a, x1b, y1b, x2b, y2b;
            switch (i)
            {
                case 0: // top left: the tile's bottom-right corner sits at the centre
                    x1a = Math.Max(xc - w, 0); y1a = Math.Max(yc - h, 0); x2a = xc; y2a = yc;
                    x1b = w - (x2a - x1a); y1b = h - (y2a - y1a); x2b = w; y2b = h;
                    break;
                case 1: // top right
                    x1a = xc; y1a = Math.Max(yc - h, 0); x2a = Math.Min(xc + w, size); y2a = yc;
                    x1b = 0; y1b = h - (y2a - y1a); x2b = Math.Min(w, x2a - x1a); y2b = h;
                    break;
                case 2: // bottom left
                    x1a = Math.Max(xc - w, 0); y1a = yc; x2a = xc; y2a = Math.Min(size, yc + h);
                    x1b = w - (x2a - x1a); y1b = 0; x2b = w; y2b = Math.Min(y2a - y1a, h);
                    break;
                default: // bottom right
                    x1a = xc; y1a = yc; x2a = Math.Min(xc + w, size); y2a = Math.Min(size, yc + h);
                    x1b = 0; y1b = 0; x2b = Math.Min(w, x2a - x1a); y2b = Math.Min(y2a - y1a, h);
                    break;
            }
            int cw = x2a - x1a, ch = y2a - y1a;
            if (cw > 0 && ch > 0)
            {
                for (int y = 0; y < ch; y++)
                    Buffer.BlockCopy(img.Pixels, ((y1b + y) * w + x1b) * 3, canvas.Pixels, ((y1a + y) * size + x1a) * 3, cw * 3);
            }
            parts.Add(labels.Affine(1, 1, x1a - x1b, y1a - y1b));
        }
        var all = Instances.Concat(parts);
        all.Clip(size, size);
        return (canvas, all.RemoveZeroArea());
    }
}
