using System.Globalization;
using Strix.Data;

namespace Strix.Eval;

/// <summary>One image's ground truth in original-image pixels: boxes row-major [m,4] xyxy, classes [m].</summary>
public sealed record GroundTruthImage(string File, int Width, int Height, float[] Boxes, int[] Classes)
{
    public int Count => Classes.Length;
}

/// <summary>
/// Reads YOLO-format ground truth (<c>images/…/x.jpg</c> ↔ <c>labels/…/x.txt</c>, rows
/// <c>class cx cy w h</c> normalised to the image) straight from disk, for evaluating a
/// predictions file without a data loader. Rules as YOLO's label check: polygon rows become their
/// bounding box, coordinates must lie in [0, 1], exact duplicate rows count once, an image without a
/// label file is a background image.
/// </summary>
public static class YoloGroundTruth
{
    /// <summary>Ground truth of every image under <paramref name="imagesDir"/> (recursive, sorted by path).</summary>
    public static IReadOnlyList<GroundTruthImage> Load(string imagesDir, int numClasses)
    {
        if (!Directory.Exists(imagesDir)) throw new DirectoryNotFoundException($"image folder not found: {imagesDir}");
        var files = Directory.EnumerateFiles(imagesDir, "*", SearchOption.AllDirectories)
            .Where(ImageIO.IsImageFile).OrderBy(f => f, StringComparer.Ordinal).ToList();
        if (files.Count == 0) throw new FileNotFoundException($"no images in {imagesDir}");
        return Load(files, numClasses);
    }

    /// <summary>Ground truth of the given image files, in that order.</summary>
    public static IReadOnlyList<GroundTruthImage> Load(IEnumerable<string> imageFiles, int numClasses) =>
        imageFiles.Select(f => LoadOne(f, numClasses)).ToList();

    /// <summary>The label file of an image: the last <c>/images/</c> in its path becomes <c>/labels/</c>, the extension <c>.txt</c>.</summary>
    public static string LabelPathFor(string imagePath)
    {
        var full = Path.GetFullPath(imagePath);
        var sep = Path.DirectorySeparatorChar;
        string sa = $"{sep}images{sep}", sb = $"{sep}labels{sep}";
        int k = full.LastIndexOf(sa, StringComparison.Ordinal);
        var swapped = k < 0 ? full : full[..k] + sb + full[(k + sa.Length)..];
        return Path.ChangeExtension(swapped, ".txt");
    }

    static GroundTruthImage LoadOne(string imagePath, int numClasses)
    {
        var (w, h) = ImageIO.ReadSize(imagePath);
        var labelPath = LabelPathFor(imagePath);
        var rows = File.Exists(labelPath) ? ParseLabels(labelPath, numClasses) : new List<float[]>();
        var boxes = new float[rows.Count * 4];
        var cls = new int[rows.Count];
        for (int i = 0; i < rows.Count; i++)
        {
            var r = rows[i];
            cls[i] = (int)r[0];
            boxes[i * 4] = (r[1] - r[3] / 2) * w;
            boxes[i * 4 + 1] = (r[2] - r[4] / 2) * h;
            boxes[i * 4 + 2] = (r[1] + r[3] / 2) * w;
            boxes[i * 4 + 3] = (r[2] + r[4] / 2) * h;
        }
        return new GroundTruthImage(imagePath, w, h, boxes, cls);
    }

    /// <summary>Parses one label file into rows (class, cx, cy, w, h), duplicates removed.</summary>
    public static List<float[]> ParseLabels(string labelPath, int numClasses)
    {
        var rows = new List<float[]>();
        var seen = new HashSet<string>();
        int lineNo = 0;
        foreach (var raw in File.ReadLines(labelPath))
        {
            lineNo++;
            var parts = raw.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0) continue;
            string Where() => $"{labelPath}:{lineNo}";
            var v = new float[parts.Length];
            for (int i = 0; i < parts.Length; i++)
                if (!float.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out v[i]) || !float.IsFinite(v[i]))
                    throw new InvalidDataException($"{Where()}: '{parts[i]}' is not a number");
            float[] row;
            if (parts.Length == 5) row = v;
            else if (parts.Length > 6 && parts.Length % 2 == 1) row = PolygonToBox(v);
            else throw new InvalidDataException($"{Where()}: expected 'class cx cy w h' (or a polygon), got {parts.Length} values");
            if (row[0] != MathF.Floor(row[0]) || row[0] < 0 || row[0] >= numClasses)
                throw new InvalidDataException($"{Where()}: class {parts[0]} is not an integer in 0..{numClasses - 1}");
            for (int i = 1; i < 5; i++)
                if (row[i] < 0 || row[i] > 1) throw new InvalidDataException($"{Where()}: coordinate {row[i]} is not normalised to [0, 1]");
            var key = string.Join(',', row.Select(x => BitConverter.SingleToInt32Bits(x)));
            if (seen.Add(key)) rows.Add(row);
        }
        return rows;
    }

    static float[] PolygonToBox(float[] v)
    {
        float x1 = float.MaxValue, y1 = float.MaxValue, x2 = float.MinValue, y2 = float.MinValue;
        for (int i = 1; i + 1 < v.Length; i += 2)
        {
            x1 = MathF.Min(x1, v[i]); x2 = MathF.Max(x2, v[i]);
            y1 = MathF.Min(y1, v[i + 1]); y2 = MathF.Max(y2, v[i + 1]);
        }
        return new[] { v[0], (x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1 };
    }
}
