using Strix.Runtime;
using System.Globalization;
using Strix.Data;

namespace Strix.Tests.Data;

/// <summary>Tiny YOLO datasets written on the fly into temp folders.</summary>
internal static class DataFixtures
{
    /// <summary>One image to write: file name, size, label text (null = no label file), fill colour, optional rectangles.</summary>
    public sealed record Img(string Name, int Width, int Height, string? Label, byte Gray = 90)
    {
        /// <summary>Filled rectangles (normalised xywh, class id → colour) drawn into the image and labelled.</summary>
        public (int Cls, float X, float Y, float W, float H)[] Rects { get; init; } = Array.Empty<(int, float, float, float, float)>();
    }

    public static readonly (byte R, byte G, byte B)[] ClassColors = { (230, 30, 30), (30, 220, 40), (40, 60, 235), (240, 220, 20) };

    /// <summary>
    /// Writes <c>root/images/{split}/…</c> and <c>root/labels/{split}/…</c> and a data.yaml using the
    /// same folder for train and val. Returns the yaml path.
    /// </summary>
    public static string Make(string root, IEnumerable<Img> images, string split = "train", int nc = 4, bool writeYaml = true)
    {
        var imgDir = Path.Combine(root, "images", split);
        var lblDir = Path.Combine(root, "labels", split);
        Directory.CreateDirectory(imgDir);
        foreach (var im in images)
        {
            var path = Path.Combine(imgDir, im.Name);
            var img = RgbImage.Filled(im.Width, im.Height, im.Gray, im.Gray, im.Gray);
            var label = im.Label;
            if (im.Rects.Length > 0)
            {
                var rows = new List<string>();
                foreach (var (c, x, y, w, h) in im.Rects)
                {
                    FillRect(img, x, y, w, h, ClassColors[c % ClassColors.Length]);
                    rows.Add(string.Create(CultureInfo.InvariantCulture, $"{c} {x} {y} {w} {h}"));
                }
                label = string.Join("\n", rows) + "\n";
            }
            if (path.EndsWith(".png") || path.EndsWith(".jpg") || path.EndsWith(".bmp")) ImageIO.Save(img, path, 100);
            if (label is not null)
            {
                Directory.CreateDirectory(lblDir);
                File.WriteAllText(Path.Combine(lblDir, Path.ChangeExtension(im.Name, ".txt")), label);
            }
        }
        var yaml = Path.Combine(root, "data.yaml");
        if (writeYaml)
            File.WriteAllText(yaml, $"path: .\ntrain: images/{split}\nval: images/{split}\nnames: [{string.Join(", ", Enumerable.Range(0, nc).Select(i => $"c{i}"))}]\n");
        return yaml;
    }

    /// <summary>Fills the pixels whose centres fall inside the normalised box.</summary>
    public static void FillRect(RgbImage img, float x, float y, float w, float h, (byte R, byte G, byte B) c)
    {
        int x0 = (int)Math.Round((x - w / 2) * img.Width), x1 = (int)Math.Round((x + w / 2) * img.Width);
        int y0 = (int)Math.Round((y - h / 2) * img.Height), y1 = (int)Math.Round((y + h / 2) * img.Height);
        for (int yy = Math.Max(0, y0); yy < Math.Min(img.Height, y1); yy++)
            for (int xx = Math.Max(0, x0); xx < Math.Min(img.Width, x1); xx++)
            {
                int i = (yy * img.Width + xx) * 3;
                img.Pixels[i] = c.R; img.Pixels[i + 1] = c.G; img.Pixels[i + 2] = c.B;
            }
    }

    /// <summary>
    /// Inserts a minimal EXIF APP1 segment (little-endian TIFF, one IFD entry: Orientation) right after
    /// the JPEG's SOI marker, as cameras write it.
    /// </summary>
    public static byte[] WithExifOrientation(byte[] jpeg, ushort orientation)
    {
        var tiff = new List<byte> { (byte)'I', (byte)'I', 42, 0, 8, 0, 0, 0 }; // header, IFD at offset 8
        tiff.AddRange(new byte[] { 1, 0 });                                     // one entry
        tiff.AddRange(new byte[] { 0x12, 0x01, 3, 0, 1, 0, 0, 0 });             // tag 0x0112 SHORT ×1
        tiff.AddRange(new byte[] { (byte)orientation, (byte)(orientation >> 8), 0, 0 });
        tiff.AddRange(new byte[] { 0, 0, 0, 0 });                               // no next IFD
        var payload = "Exif\0\0"u8.ToArray().Concat(tiff).ToArray();
        int len = payload.Length + 2;
        var app1 = new byte[] { 0xFF, 0xE1, (byte)(len >> 8), (byte)len }.Concat(payload);
        return jpeg.Take(2).Concat(app1).Concat(jpeg.Skip(2)).ToArray();
    }

    /// <summary>A dataset of <paramref name="n"/> PNG images with 1–3 coloured rectangles each, exactly labelled.</summary>
    public static string Rectangles(string root, int n, int seed = 1, int minSize = 60, int maxSize = 160)
    {
        var rng = new StrixRandom(seed);
        var images = new List<Img>();
        for (int i = 0; i < n; i++)
        {
            int w = rng.NextInt(minSize, maxSize), h = rng.NextInt(minSize, maxSize);
            int k = 1 + rng.NextInt(3);
            var rects = new (int, float, float, float, float)[k];
            for (int j = 0; j < k; j++)
            {
                // Whole-pixel boxes so the labels are exact.
                int bw = rng.NextInt(w / 6, w / 3), bh = rng.NextInt(h / 6, h / 3);
                int bx = rng.NextInt(0, w - bw), by = rng.NextInt(0, h - bh);
                rects[j] = (j % 4, (bx + bw / 2f) / w, (by + bh / 2f) / h, (float)bw / w, (float)bh / h);
            }
            // Keep rectangles of one image apart: a later one may not cover an earlier one (tests read colours).
            var kept = new List<(int, float, float, float, float)>();
            foreach (var r in rects)
                if (kept.All(o => Math.Abs(o.Item2 - r.Item2) * 2 > o.Item4 + r.Item4 || Math.Abs(o.Item3 - r.Item3) * 2 > o.Item5 + r.Item5)) kept.Add(r);
            images.Add(new Img($"img{i:D3}.png", w, h, null) { Rects = kept.ToArray() });
        }
        return Make(root, images);
    }
}
