using System.Globalization;
using System.Text.Json;

namespace Strix.Eval;

/// <summary>One ground-truth object in COCO terms: bbox [x, y, w, h] in pixels, the area used for the small/medium/large split, crowd flag.</summary>
public sealed record CocoAnnotation(long Id, string ImageId, int CategoryId, double X, double Y, double Width, double Height, double Area, bool IsCrowd);

/// <summary>
/// Ground truth for <see cref="CocoEval"/>: image ids, category ids and annotations, from a COCO
/// instances json (as pycocotools' <c>COCO(annotation_file)</c>) or from YOLO labels.
/// Image ids are kept as strings (numbers in decimal) so numeric and named ids work alike.
/// </summary>
public sealed class CocoGroundTruth
{
    public CocoGroundTruth(IReadOnlyList<string> imageIds, IReadOnlyList<int> categoryIds, IReadOnlyList<CocoAnnotation> annotations)
    {
        ImageIds = imageIds;
        CategoryIds = categoryIds;
        Annotations = annotations;
    }

    public IReadOnlyList<string> ImageIds { get; }
    public IReadOnlyList<int> CategoryIds { get; }
    public IReadOnlyList<CocoAnnotation> Annotations { get; }

    /// <summary>Reads images, categories and annotations of a COCO instances json.</summary>
    public static CocoGroundTruth Load(string jsonPath)
    {
        if (!File.Exists(jsonPath)) throw new FileNotFoundException($"COCO annotation file not found: {jsonPath}", jsonPath);
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllBytes(jsonPath)); }
        catch (JsonException e) { throw new InvalidDataException($"{jsonPath}: not valid JSON ({e.Message})", e); }
        using (doc)
        {
            var root = doc.RootElement;
            JsonElement Array(string name) => root.TryGetProperty(name, out var a) && a.ValueKind == JsonValueKind.Array ? a
                : throw new InvalidDataException($"{jsonPath}: missing '{name}' array");
            var images = Array("images").EnumerateArray().Select((e, i) => Id(e, "id", $"{jsonPath}: images[{i}]")).ToList();
            var cats = Array("categories").EnumerateArray().Select((e, i) =>
                e.TryGetProperty("id", out var v) && v.TryGetInt32(out var c) ? c : throw new InvalidDataException($"{jsonPath}: categories[{i}] has no integer id")).ToList();
            var anns = new List<CocoAnnotation>();
            int k = 0;
            foreach (var a in Array("annotations").EnumerateArray())
            {
                string where = $"{jsonPath}: annotations[{k++}]";
                var bbox = a.TryGetProperty("bbox", out var b) && b.ValueKind == JsonValueKind.Array && b.GetArrayLength() == 4
                    ? b.EnumerateArray().Select(v => v.GetDouble()).ToArray() : throw new InvalidDataException($"{where}: bbox must be [x, y, w, h]");
                long id = a.TryGetProperty("id", out var idv) && idv.TryGetInt64(out var idl) ? idl : throw new InvalidDataException($"{where}: missing id");
                int cat = a.TryGetProperty("category_id", out var cv) && cv.TryGetInt32(out var ci) ? ci : throw new InvalidDataException($"{where}: missing category_id");
                double area = a.TryGetProperty("area", out var av) && av.ValueKind == JsonValueKind.Number ? av.GetDouble() : bbox[2] * bbox[3];
                bool crowd = a.TryGetProperty("iscrowd", out var cr) && cr.ValueKind == JsonValueKind.Number && cr.GetInt32() != 0;
                anns.Add(new CocoAnnotation(id, Id(a, "image_id", where), cat, bbox[0], bbox[1], bbox[2], bbox[3], area, crowd));
            }
            return new CocoGroundTruth(images, cats, anns);
        }
    }

    /// <summary>
    /// Ground truth from YOLO labels: image id from the file stem, category ids through
    /// <paramref name="categoryIds"/> (class → id), area = box area, no crowd regions.
    /// </summary>
    public static CocoGroundTruth FromYolo(IReadOnlyList<GroundTruthImage> images, IReadOnlyList<int> categoryIds)
    {
        var anns = new List<CocoAnnotation>();
        long next = 1; // pycocotools treats id 0 as "unmatched", so ids start at 1
        foreach (var g in images)
        {
            var key = CocoPredictionsWriter.ImageKeyOf(g.File);
            for (int i = 0; i < g.Count; i++)
            {
                double x1 = g.Boxes[i * 4], y1 = g.Boxes[i * 4 + 1], w = g.Boxes[i * 4 + 2] - x1, h = g.Boxes[i * 4 + 3] - y1;
                anns.Add(new CocoAnnotation(next++, key, categoryIds[g.Classes[i]], x1, y1, w, h, w * h, false));
            }
        }
        return new CocoGroundTruth(images.Select(g => CocoPredictionsWriter.ImageKeyOf(g.File)).ToList(), categoryIds.ToList(), anns);
    }

    static string Id(JsonElement e, string name, string where) =>
        e.TryGetProperty(name, out var v) ? v.ValueKind switch
        {
            JsonValueKind.Number when v.TryGetInt64(out var n) => n.ToString(CultureInfo.InvariantCulture),
            JsonValueKind.String => v.GetString()!,
            _ => throw new InvalidDataException($"{where}: {name} must be an integer or a string"),
        } : throw new InvalidDataException($"{where}: missing {name}");
}
