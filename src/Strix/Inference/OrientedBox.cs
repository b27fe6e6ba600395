namespace Strix.Inference;

/// <summary>
/// A rotated box in original-image pixels (Ultralytics' xywhr): centre, width, height and the angle in radians from
/// the x axis to the width side, in the regular form (w ≥ h, angle in [0, π)).
/// </summary>
public readonly record struct OrientedBox(float CenterX, float CenterY, float Width, float Height, float Angle)
{
    /// <summary>The four corners x1 y1 … x4 y4 (Ultralytics' xyxyxyxy): centre ± the rotated half-axes.</summary>
    public float[] Corners() => Data.Polygons.RectCorners(CenterX, CenterY, Width, Height, Angle);

    /// <summary>The axis-aligned box around the corners (Ultralytics' obb.xyxy).</summary>
    public BoundingBox Bounds()
    {
        var p = Corners();
        float x1 = Math.Min(Math.Min(p[0], p[2]), Math.Min(p[4], p[6])), x2 = Math.Max(Math.Max(p[0], p[2]), Math.Max(p[4], p[6]));
        float y1 = Math.Min(Math.Min(p[1], p[3]), Math.Min(p[5], p[7])), y2 = Math.Max(Math.Max(p[1], p[3]), Math.Max(p[5], p[7]));
        return new BoundingBox(x1, y1, x2, y2);
    }
}
