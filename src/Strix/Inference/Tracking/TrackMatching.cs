using Strix.Eval;

namespace Strix.Inference.Tracking;

/// <summary>Association costs between tracks and detections.</summary>
public static class TrackMatching
{
    /// <summary>IoU of two corner boxes (0 when either is empty).</summary>
    public static double Iou(BoundingBox a, BoundingBox b) => BoxOps.Iou(a.X1, a.Y1, a.X2, a.Y2, b.X1, b.Y1, b.X2, b.Y2);

    /// <summary>1 − IoU for every (row box, column box) pair.</summary>
    public static double[,] IouDistance(IReadOnlyList<BoundingBox> rows, IReadOnlyList<BoundingBox> cols)
    {
        var d = new double[rows.Count, cols.Count];
        for (int i = 0; i < rows.Count; i++)
            for (int j = 0; j < cols.Count; j++) d[i, j] = 1 - Iou(rows[i], cols[j]);
        return d;
    }

    /// <summary>ByteTrack's score fusion: the cost becomes 1 − IoU·score, so confident detections win ties.</summary>
    public static void FuseScore(double[,] cost, IReadOnlyList<float> scores)
    {
        for (int i = 0; i < cost.GetLength(0); i++)
            for (int j = 0; j < cost.GetLength(1); j++) cost[i, j] = 1 - (1 - cost[i, j]) * scores[j];
    }
}
