namespace Strix.Eval;

/// <summary>
/// Object keypoint similarity (COCO's OKS), the IoU of pose metrics: for a prediction and an object, the mean over the
/// object's labelled keypoints (v ≠ 0) of exp(−d² / (2·(2σ)²·(area + ε))), d the distance in pixels, area the object's
/// box area × 0.53 (Ultralytics' stand-in for the segment area COCO uses), σ per keypoint.
/// </summary>
public static class KeypointOks
{
    /// <summary>Share of a box's area COCO's person segments cover on average; Ultralytics scales the box area by it.</summary>
    public const double AreaFactor = 0.53;

    /// <summary>
    /// OKS of every prediction with every object: <paramref name="pred"/> [n, K, 3] and <paramref name="gt"/> [m, K, 3]
    /// (x y v, original pixels), <paramref name="gtAreas"/> [m] (already × <see cref="AreaFactor"/>) → [n·m] row-major.
    /// </summary>
    public static float[] Matrix(float[] pred, float[] gt, float[] gtAreas, float[] sigmas, int k)
    {
        int n = pred.Length / (k * 3), m = gt.Length / (k * 3);
        if (gtAreas.Length != m) throw new ArgumentException($"{gtAreas.Length} areas for {m} objects");
        var result = new float[n * m];
        for (int j = 0; j < m; j++)
        {
            int labelled = 0;
            for (int q = 0; q < k; q++) if (gt[(j * k + q) * 3 + 2] != 0) labelled++;
            if (labelled == 0) continue;
            for (int i = 0; i < n; i++)
            {
                double sum = 0;
                for (int q = 0; q < k; q++)
                {
                    int g = (j * k + q) * 3, p = (i * k + q) * 3;
                    if (gt[g + 2] == 0) continue;
                    double dx = pred[p] - gt[g], dy = pred[p + 1] - gt[g + 1];
                    double s2 = 2.0 * sigmas[q];
                    sum += Math.Exp(-(dx * dx + dy * dy) / (s2 * s2 * (gtAreas[j] + 1e-7) * 2));
                }
                result[i * m + j] = (float)(sum / (labelled + 1e-7));
            }
        }
        return result;
    }
}
