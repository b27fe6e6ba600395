using Strix.IO;
using System.Globalization;
using System.Text.Json;
using static TorchSharp.torch;

namespace Strix.Eval;

/// <summary>One detection in COCO results format: bbox is [x, y, width, height] in original-image pixels.</summary>
public sealed record CocoDetection(string ImageId, int CategoryId, double X, double Y, double Width, double Height, double Score);

/// <summary>
/// COCO results files (<c>predictions.json</c>): a flat array of
/// <c>{"image_id", "category_id", "bbox": [x, y, w, h], "score"}</c> (segmentation results add
/// <c>"segmentation": {"size": [h, w], "counts": "…"}</c>, a <see cref="CocoRle"/>), the format pycocotools'
/// <c>loadRes</c> reads. Image ids are the numeric file stem (<c>000000000009.jpg</c> → 9) or, for
/// other names, the stem as a string; boxes are rounded to 3 decimals and scores to 5, as Ultralytics writes them.
/// </summary>
public sealed class CocoPredictionsWriter
{
    readonly IReadOnlyList<int> _categoryIds;
    readonly List<(object ImageId, int Category, double X, double Y, double W, double H, double Score, CocoRle? Segmentation)> _items = new();

    /// <param name="categoryIds">Category id written for each class id (see <see cref="CocoCategories.CategoryIdsFor"/>).</param>
    public CocoPredictionsWriter(IReadOnlyList<int> categoryIds) => _categoryIds = categoryIds;

    /// <summary>A writer using COCO ids for COCO class lists, 1…nc otherwise.</summary>
    public static CocoPredictionsWriter For(IReadOnlyList<string> names) => new(CocoCategories.CategoryIdsFor(names));

    public int Count => _items.Count;

    /// <summary>
    /// Adds one image's detections, row-major [n,6] (x1, y1, x2, y2 in original pixels, conf, cls), with each one's
    /// mask on the original image when given (segmentation results).
    /// </summary>
    public void Add(string imagePath, ReadOnlySpan<float> predictions, IReadOnlyList<CocoRle>? segmentations = null)
    {
        const int W = DetectionMatcher.PredictionWidth;
        if (predictions.Length % W != 0) throw new ArgumentException($"predictions must be rows of {W} floats", nameof(predictions));
        if (segmentations is not null && segmentations.Count != predictions.Length / W)
            throw new ArgumentException($"{segmentations.Count} masks for {predictions.Length / W} detections", nameof(segmentations));
        object id = ImageIdOf(imagePath);
        for (int i = 0; i < predictions.Length / W; i++)
        {
            var p = predictions.Slice(i * W, W);
            int cls = DetectionMatcher.ClassOf(p[5]);
            if (cls >= _categoryIds.Count) throw new ArgumentException($"class {cls} has no category id ({_categoryIds.Count} classes)");
            float w = p[2] - p[0], h = p[3] - p[1];
            _items.Add((id, _categoryIds[cls], R(p[0], 3), R(p[1], 3), R(w, 3), R(h, 3), R(p[4], 5), segmentations?[i]));
        }
    }

    /// <summary>Tensor form: [n,6] detections in original-image pixels, any device.</summary>
    public void Add(string imagePath, Tensor predictions) =>
        Add(imagePath, DetectionMatcher.ToFloats(predictions, DetectionMatcher.PredictionWidth, nameof(predictions)));

    /// <summary>Writes the JSON array (atomically).</summary>
    public void Save(string path) => AtomicFile.Write(path, stream =>
    {
        using var w = new Utf8JsonWriter(stream);
        w.WriteStartArray();
        foreach (var it in _items)
        {
            w.WriteStartObject();
            if (it.ImageId is long n) w.WriteNumber("image_id", n); else w.WriteString("image_id", (string)it.ImageId);
            w.WriteNumber("category_id", it.Category);
            w.WriteStartArray("bbox");
            w.WriteNumberValue(it.X); w.WriteNumberValue(it.Y); w.WriteNumberValue(it.W); w.WriteNumberValue(it.H);
            w.WriteEndArray();
            w.WriteNumber("score", it.Score);
            if (it.Segmentation is { } rle)
            {
                w.WriteStartObject("segmentation");
                w.WriteStartArray("size");
                w.WriteNumberValue(rle.Height); w.WriteNumberValue(rle.Width);
                w.WriteEndArray();
                w.WriteString("counts", rle.Counts);
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
    });

    /// <summary>COCO image id of a file: its stem as a number when it is all digits, else the stem itself.</summary>
    public static object ImageIdOf(string imagePath)
    {
        var stem = Path.GetFileNameWithoutExtension(imagePath);
        return stem.Length > 0 && stem.Length <= 18 && stem.All(char.IsAsciiDigit) ? long.Parse(stem, CultureInfo.InvariantCulture) : stem;
    }

    /// <summary>The image id as the string key <see cref="CocoPredictionsReader"/> uses (numbers in decimal).</summary>
    public static string ImageKeyOf(string imagePath) => ImageIdOf(imagePath) is long n ? n.ToString(CultureInfo.InvariantCulture) : (string)ImageIdOf(imagePath);

    static double R(float v, int digits) => Math.Round((double)v, digits, MidpointRounding.ToEven);
}

/// <summary>Reads a COCO results file back, with errors that name the file and the entry.</summary>
public static class CocoPredictionsReader
{
    public static IReadOnlyList<CocoDetection> Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"predictions file not found: {path}", path);
        using var doc = ParseJson(path);
        if (doc.RootElement.ValueKind != JsonValueKind.Array) throw new InvalidDataException($"{path}: expected a JSON array of detections");
        var list = new List<CocoDetection>(doc.RootElement.GetArrayLength());
        int index = 0;
        foreach (var e in doc.RootElement.EnumerateArray())
        {
            string Where() => $"{path}: entry {index}";
            if (e.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{Where()} is not an object");
            string imageId = e.TryGetProperty("image_id", out var id) ? id.ValueKind switch
            {
                JsonValueKind.Number when id.TryGetInt64(out var n) => n.ToString(CultureInfo.InvariantCulture),
                JsonValueKind.String => id.GetString()!,
                _ => throw new InvalidDataException($"{Where()}: image_id must be an integer or a string"),
            } : throw new InvalidDataException($"{Where()}: missing image_id");
            if (!e.TryGetProperty("category_id", out var cat) || !cat.TryGetInt32(out var category))
                throw new InvalidDataException($"{Where()}: missing or non-integer category_id");
            if (!e.TryGetProperty("bbox", out var bbox) || bbox.ValueKind != JsonValueKind.Array || bbox.GetArrayLength() != 4)
                throw new InvalidDataException($"{Where()}: bbox must be [x, y, width, height]");
            var b = bbox.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.Number ? v.GetDouble()
                : throw new InvalidDataException($"{Where()}: bbox values must be numbers")).ToArray();
            if (!e.TryGetProperty("score", out var sc) || sc.ValueKind != JsonValueKind.Number)
                throw new InvalidDataException($"{Where()}: missing score");
            list.Add(new CocoDetection(imageId, category, b[0], b[1], b[2], b[3], sc.GetDouble()));
            index++;
        }
        return list;
    }

    static JsonDocument ParseJson(string path)
    {
        try { return JsonDocument.Parse(File.ReadAllBytes(path)); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not valid JSON ({e.Message})", e); }
    }
}
