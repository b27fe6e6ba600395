namespace Strix.Eval;

/// <summary>
/// Recomputes our metrics (the same <see cref="DetectionMetrics"/> definitions) from a COCO results
/// file and ground truth, so a saved <c>predictions.json</c> can be checked against the numbers the
/// validator printed, or detections from another tool scored on our scale.
/// </summary>
public static class CocoJsonEvaluator
{
    /// <summary>Reads <paramref name="predictionsJson"/> and the YOLO labels of the images in <paramref name="imagesDir"/>.</summary>
    public static DetectionResults Evaluate(string predictionsJson, string imagesDir, IReadOnlyList<string> names) =>
        Evaluate(CocoPredictionsReader.Read(predictionsJson), YoloGroundTruth.Load(imagesDir, names.Count), names);

    /// <summary>
    /// Scores <paramref name="detections"/> against <paramref name="groundTruth"/> (images matched by
    /// COCO image id: numeric file stem or stem). Category ids map back to classes through
    /// <paramref name="categoryIds"/> (default: COCO ids for COCO names, else 1…nc).
    /// Detections for images not in the ground truth are an error, not silently dropped.
    /// </summary>
    public static DetectionResults Evaluate(IReadOnlyList<CocoDetection> detections, IReadOnlyList<GroundTruthImage> groundTruth,
        IReadOnlyList<string> names, IReadOnlyList<int>? categoryIds = null)
    {
        categoryIds ??= CocoCategories.CategoryIdsFor(names);
        var classOf = new Dictionary<int, int>();
        for (int c = 0; c < categoryIds.Count; c++) classOf[categoryIds[c]] = c;

        var byImage = new Dictionary<string, List<CocoDetection>>(StringComparer.Ordinal);
        foreach (var d in detections)
        {
            if (!byImage.TryGetValue(d.ImageId, out var list)) byImage[d.ImageId] = list = new List<CocoDetection>();
            list.Add(d);
        }
        var known = new HashSet<string>(StringComparer.Ordinal);
        var metrics = new DetectionMetrics(names);
        foreach (var gt in groundTruth)
        {
            var key = CocoPredictionsWriter.ImageKeyOf(gt.File);
            if (!known.Add(key)) throw new InvalidDataException($"two ground-truth images share the COCO image id '{key}' ({gt.File})");
            var dets = byImage.TryGetValue(key, out var l) ? l : new List<CocoDetection>();
            var pred = new float[dets.Count * DetectionMatcher.PredictionWidth];
            for (int i = 0; i < dets.Count; i++)
            {
                var d = dets[i];
                if (!classOf.TryGetValue(d.CategoryId, out var cls))
                    throw new InvalidDataException($"detection for image '{d.ImageId}' has category_id {d.CategoryId}, which is none of the {names.Count} classes");
                var p = pred.AsSpan(i * DetectionMatcher.PredictionWidth);
                p[0] = (float)d.X; p[1] = (float)d.Y; p[2] = (float)(d.X + d.Width); p[3] = (float)(d.Y + d.Height);
                p[4] = (float)d.Score; p[5] = cls;
            }
            metrics.Update(pred, gt.Boxes, gt.Classes);
        }
        var unknown = byImage.Keys.Where(k => !known.Contains(k)).Take(5).ToList();
        if (unknown.Count > 0)
            throw new InvalidDataException($"detections refer to images missing from the ground truth: {string.Join(", ", unknown)}");
        return metrics.Compute();
    }
}
