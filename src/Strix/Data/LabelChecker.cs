using System.Globalization;
using SkiaSharp;

namespace Strix.Data;

/// <summary>
/// Verifies images and YOLO label files the way Ultralytics does before training, so that a bad file
/// is reported once, by name and reason, instead of crashing a worker in the middle of an epoch.
/// </summary>
public static class LabelChecker
{
    /// <summary>Normalised coordinates may overshoot [0, 1] by this much (rounding in converters) and are then clipped.</summary>
    public const float CoordinateTolerance = 0.01f;

    /// <summary>Images smaller than this on either side are rejected (Ultralytics' rule).</summary>
    public const int MinImageSize = 10;

    /// <summary>
    /// The label path for an image: the last <c>/images/</c> folder becomes <c>/labels/</c> and the
    /// extension becomes <c>.txt</c> (Ultralytics' <c>img2label_paths</c>).
    /// </summary>
    public static string LabelPathFor(string imageFile)
    {
        var sep = Path.DirectorySeparatorChar;
        string sa = $"{sep}images{sep}", sb = $"{sep}labels{sep}";
        int i = imageFile.LastIndexOf(sa, StringComparison.Ordinal);
        var p = i >= 0 ? imageFile[..i] + sb + imageFile[(i + sa.Length)..] : imageFile;
        int dot = p.LastIndexOf('.');
        int slash = p.LastIndexOf(sep);
        return (dot > slash ? p[..dot] : p) + ".txt";
    }

    /// <summary>Checks all images in parallel; the order of the result matches <paramref name="imageFiles"/>.</summary>
    public static ImageLabels[] CheckAll(IReadOnlyList<string> imageFiles, int nc, int maxParallelism = -1, int[]? kptShape = null)
    {
        var result = new ImageLabels[imageFiles.Count];
        var po = new ParallelOptions { MaxDegreeOfParallelism = maxParallelism > 0 ? maxParallelism : Environment.ProcessorCount };
        Parallel.For(0, imageFiles.Count, po, i => result[i] = Check(imageFiles[i], nc, kptShape));
        return result;
    }

    /// <summary>
    /// Checks one image and its label file. Never throws for bad data: the verdict is in the result. With
    /// <paramref name="kptShape"/> [K, D] (a pose dataset) every row is <c>class x y w h</c> and K keypoints of D values.
    /// </summary>
    public static ImageLabels Check(string imageFile, int nc, int[]? kptShape = null)
    {
        var labelFile = LabelPathFor(imageFile);
        int w, h;
        try { (w, h) = VerifyImage(imageFile); }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            return Corrupt(imageFile, labelFile, e.Message);
        }

        if (!File.Exists(labelFile))
            return new ImageLabels(imageFile, labelFile, w, h, Array.Empty<float>(), Array.Empty<float>(), ImageStatus.Background, null, labelMissing: true);

        string text;
        try { text = File.ReadAllText(labelFile); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Corrupt(imageFile, labelFile, $"{labelFile}: cannot read label file ({e.Message})");
        }

        var cls = new List<float>();
        var boxes = new List<float>();
        var polygons = new List<float[]>();
        var keypoints = new List<float[]>();
        var seen = new HashSet<(float, float, float, float, float)>();
        int duplicates = 0, lineNo = 0, boxRows = 0;
        foreach (var rawLine in text.Split('\n'))
        {
            lineNo++;
            var line = rawLine.Trim();
            if (line.Length == 0) continue;
            float[]? kpts = null;
            string? err;
            float c, x, y, bw, bh;
            float[]? polygon;
            if (kptShape is null) err = ParseRow(line, nc, out c, out x, out y, out bw, out bh, out polygon);
            else
            {
                polygon = null;
                err = ParsePoseRow(line, nc, kptShape, out c, out x, out y, out bw, out bh, out kpts);
            }
            if (err is not null) return Corrupt(imageFile, labelFile, $"{labelFile} line {lineNo}: {err}");
            if (!seen.Add((c, x, y, bw, bh))) { duplicates++; continue; }
            if (kpts is not null) keypoints.Add(kpts);
            cls.Add(c);
            boxes.Add(x); boxes.Add(y); boxes.Add(bw); boxes.Add(bh);
            if (polygon is null) boxRows++;
            polygons.Add(polygon!);
        }
        var notes = new List<string>();
        if (duplicates > 0) notes.Add($"{duplicates} duplicate label{(duplicates == 1 ? "" : "s")} removed");
        int polygonRows = cls.Count - boxRows;
        float[][]? segments = polygonRows > 0 && boxRows == 0 ? polygons.ToArray() : null;
        if (polygonRows > 0 && boxRows > 0)
            notes.Add($"{labelFile} mixes {boxRows} box row{(boxRows == 1 ? "" : "s")} and {polygonRows} polygon row{(polygonRows == 1 ? "" : "s")}; " +
                      "all its objects are kept as boxes and its polygons are not used for masks");
        string? message = notes.Count > 0 ? $"{imageFile}: {string.Join("; ", notes)}" : null;
        var status = cls.Count > 0 ? ImageStatus.Labelled : ImageStatus.Background;
        return new ImageLabels(imageFile, labelFile, w, h, cls.ToArray(), boxes.ToArray(), status, message, labelMissing: false, segments,
            kptShape is null ? null : keypoints.ToArray());
    }

    /// <summary>
    /// A pose row: <c>class x y w h</c> then K keypoints of D values (x y, or x y v with v 0 / 1 / 2), all normalised;
    /// <paramref name="keypoints"/> receives K·3 values (v = 2 when D = 2). Returns an error message or null.
    /// </summary>
    internal static string? ParsePoseRow(string line, int nc, int[] kptShape, out float c, out float x, out float y, out float w, out float h, out float[]? keypoints)
    {
        c = x = y = w = h = 0;
        keypoints = null;
        int k = kptShape[0], d = kptShape[1];
        var parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 5 + k * d)
            return $"{parts.Length} values in a row; a pose label with kpt_shape [{k}, {d}] has {5 + k * d} (class x y w h, then {k} keypoints of {d} values)";
        var err = ParseRow(string.Join(' ', parts.Take(5)), nc, out c, out x, out y, out w, out h, out _);
        if (err is not null) return err;
        keypoints = new float[k * 3];
        for (int j = 0; j < k; j++)
        {
            var values = new float[d];
            for (int q = 0; q < d; q++)
            {
                var t = parts[5 + j * d + q];
                if (!float.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out values[q]) || !float.IsFinite(values[q]))
                    return $"keypoint {j}: '{t}' is not a number";
            }
            float v = d == 3 ? values[2] : 2;
            if (d == 3 && v is not (0 or 1 or 2)) return $"keypoint {j}: visibility {parts[5 + j * d + 2]} is not 0, 1 or 2";
            if (v > 0 && (OutOfRange(values[0]) || OutOfRange(values[1])))
                return $"keypoint {j} ({parts[5 + j * d]}, {parts[5 + j * d + 1]}) is not normalised to 0–1";
            keypoints[j * 3] = v > 0 ? Math.Clamp(values[0], 0f, 1f) : 0;
            keypoints[j * 3 + 1] = v > 0 ? Math.Clamp(values[1], 0f, 1f) : 0;
            keypoints[j * 3 + 2] = v;
        }
        return null;
    }

    static ImageLabels Corrupt(string imageFile, string labelFile, string reason) =>
        new(imageFile, labelFile, 0, 0, Array.Empty<float>(), Array.Empty<float>(), ImageStatus.Corrupt,
            $"{imageFile}: ignoring corrupt image/label: {reason}", labelMissing: false);

    /// <summary>
    /// Parses one label row: <c>class x y w h</c>, or a polygon <c>class x1 y1 x2 y2 …</c> (≥ 3 points,
    /// as in segmentation datasets) whose enclosing box is used. Returns an error message or null.
    /// </summary>
    internal static string? ParseRow(string line, int nc, out float c, out float x, out float y, out float w, out float h) =>
        ParseRow(line, nc, out c, out x, out y, out w, out h, out _);

    /// <summary>As above; <paramref name="points"/> receives a polygon's vertices (normalised, clipped to 0–1), null for a box row.</summary>
    internal static string? ParseRow(string line, int nc, out float c, out float x, out float y, out float w, out float h, out float[]? points)
    {
        c = x = y = w = h = 0;
        points = null;
        var parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        bool polygon = parts.Length >= 7 && parts.Length % 2 == 1;
        if (parts.Length != 5 && !polygon)
            return parts.Length > 5 && parts.Length % 2 == 0
                ? $"{parts.Length} values in a row: a polygon row is a class and x y pairs, so its count must be odd (a coordinate is missing)"
                : $"{parts.Length} values in a row; expected 5 (class x_center y_center width height) or a class and at least 3 polygon points (x1 y1 x2 y2 x3 y3 …)";
        var v = new float[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!float.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out v[i]) || !float.IsFinite(v[i]))
                return $"'{parts[i]}' is not a number";
        }
        if (v[0] != MathF.Floor(v[0])) return $"class '{parts[0]}' is not an integer";
        if (v[0] < 0 || v[0] >= nc) return $"class {parts[0]} is out of range [0, {nc}) (the dataset has {nc} names)";
        c = v[0];
        float x1, y1, x2, y2;
        if (polygon)
        {
            x1 = y1 = float.MaxValue; x2 = y2 = float.MinValue;
            for (int i = 1; i < v.Length; i += 2)
            {
                if (OutOfRange(v[i]) || OutOfRange(v[i + 1]))
                    return $"polygon point ({parts[i]}, {parts[i + 1]}) is not normalised to 0–1";
                x1 = MathF.Min(x1, v[i]); x2 = MathF.Max(x2, v[i]);
                y1 = MathF.Min(y1, v[i + 1]); y2 = MathF.Max(y2, v[i + 1]);
            }
            points = new float[v.Length - 1];
            for (int i = 1; i < v.Length; i++) points[i - 1] = Math.Clamp(v[i], 0f, 1f);
        }
        else
        {
            if (v[3] <= 0 || v[4] <= 0) return $"width and height must be > 0 (got {parts[3]} {parts[4]})";
            for (int i = 1; i < 5; i++)
                if (OutOfRange(v[i]))
                    return $"coordinate {parts[i]} is outside 0–1; YOLO labels are normalised by the image width and height";
            x1 = v[1] - v[3] / 2; x2 = v[1] + v[3] / 2;
            y1 = v[2] - v[4] / 2; y2 = v[2] + v[4] / 2;
        }
        if (!polygon && x1 >= 0 && y1 >= 0 && x2 <= 1 && y2 <= 1)
        {
            // Inside the image: keep the numbers exactly as written.
            x = v[1]; y = v[2]; w = v[3]; h = v[4];
            return null;
        }
        x1 = Math.Clamp(x1, 0f, 1f); x2 = Math.Clamp(x2, 0f, 1f);
        y1 = Math.Clamp(y1, 0f, 1f); y2 = Math.Clamp(y2, 0f, 1f);
        if (x2 - x1 <= 0 || y2 - y1 <= 0) return "box has no area inside the image";
        x = (x1 + x2) / 2; y = (y1 + y2) / 2; w = x2 - x1; h = y2 - y1;
        return null;
    }

    static bool OutOfRange(float v) => v < -CoordinateTolerance || v > 1 + CoordinateTolerance;

    /// <summary>
    /// Opens the image, checks format and size (after EXIF orientation), and decodes it (JPEGs at 1/8
    /// scale, which still reads every byte) to catch truncated or damaged files.
    /// </summary>
    internal static (int Width, int Height) VerifyImage(string path)
    {
        var fi = new FileInfo(path);
        if (!fi.Exists) throw new InvalidDataException("image file not found");
        if (fi.Length == 0) throw new InvalidDataException("empty file");
        using var codec = SKCodec.Create(path) ?? throw new InvalidDataException("not a decodable image");
        var format = codec.EncodedFormat;
        if (format is not (SKEncodedImageFormat.Jpeg or SKEncodedImageFormat.Png or SKEncodedImageFormat.Bmp or SKEncodedImageFormat.Webp))
            throw new InvalidDataException($"unsupported image format {format} (use {string.Join(", ", ImageIO.ImageExtensions)})");
        int w = codec.Info.Width, h = codec.Info.Height;
        if (codec.EncodedOrigin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom)
            (w, h) = (h, w);
        if (w < MinImageSize || h < MinImageSize) throw new InvalidDataException($"image size {w}x{h} is below {MinImageSize} pixels");
        ImageIO.CheckSize(w, h); // before the full-size PNG decode below allocates what the header claims

        var scaled = format == SKEncodedImageFormat.Jpeg ? codec.GetScaledDimensions(0.125f) : codec.Info.Size;
        var info = new SKImageInfo(scaled.Width, scaled.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var bmp = new SKBitmap(info);
        var r = codec.GetPixels(info, bmp.GetPixels());
        if (r == SKCodecResult.IncompleteInput) throw new InvalidDataException("truncated image data (corrupt file)");
        if (r != SKCodecResult.Success) throw new InvalidDataException($"image data cannot be decoded ({r})");
        return (w, h);
    }
}
