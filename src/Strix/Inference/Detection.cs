namespace Strix.Inference;

/// <summary>A box in pixels of the original image, corner form.</summary>
public readonly record struct BoundingBox(float X1, float Y1, float X2, float Y2)
{
    public float Width => X2 - X1;
    public float Height => Y2 - Y1;
    public float CenterX => (X1 + X2) / 2;
    public float CenterY => (Y1 + Y2) / 2;
}

/// <summary>One detected object; <see cref="TrackId"/> is set when a tracker follows it across frames.</summary>
public readonly record struct Detection(BoundingBox Box, float Confidence, int ClassId, string ClassName)
{
    /// <summary>The tracker's id for this object (null outside tracking).</summary>
    public int? TrackId { get; init; }
}
