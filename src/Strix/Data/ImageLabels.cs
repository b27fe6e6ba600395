namespace Strix.Data;

/// <summary>What the check pass concluded about one image.</summary>
public enum ImageStatus : byte
{
    /// <summary>Valid image with at least one valid box.</summary>
    Labelled = 0,
    /// <summary>Valid image without boxes (no label file, or an empty one): trains as pure background.</summary>
    Background = 1,
    /// <summary>Image or label is unusable; the image is skipped and <see cref="ImageLabels.Message"/> says why.</summary>
    Corrupt = 2,
}

/// <summary>
/// One checked image and its labels: size after EXIF orientation, classes and normalised centre
/// boxes (<c>x y w h</c> in 0–1, clipped to the image).
/// </summary>
public sealed class ImageLabels
{
    public ImageLabels(string imageFile, string labelFile, int width, int height, float[] cls, float[] boxes,
        ImageStatus status, string? message, bool labelMissing, float[][]? segments = null, float[][]? keypoints = null)
    {
        if (boxes.Length != cls.Length * 4) throw new ArgumentException("boxes must hold 4 numbers per class entry");
        if (segments is not null && segments.Length != cls.Length) throw new ArgumentException("segments must hold one polygon per class entry");
        if (keypoints is not null && keypoints.Length != cls.Length) throw new ArgumentException("keypoints must hold one set per class entry");
        ImageFile = imageFile; LabelFile = labelFile; Width = width; Height = height; Cls = cls; Boxes = boxes;
        Status = status; Message = message; LabelMissing = labelMissing; Segments = segments; Keypoints = keypoints;
    }

    /// <summary>Pose: per object its K keypoints as normalised <c>x y v</c> (v 0, 1 or 2; 2 when the labels carry no visibility); null otherwise.</summary>
    public float[][]? Keypoints { get; }

    public string ImageFile { get; }
    /// <summary>Where the label file is (or would be) by the Ultralytics <c>/images/ → /labels/</c> rule.</summary>
    public string LabelFile { get; }
    /// <summary>Width after EXIF orientation (0 when the image is corrupt).</summary>
    public int Width { get; }
    public int Height { get; }
    /// <summary>Class id per box.</summary>
    public float[] Cls { get; }
    /// <summary>Normalised <c>x y w h</c> (centre) per box, 4 numbers each.</summary>
    public float[] Boxes { get; }
    /// <summary>
    /// Per object its polygon, normalised <c>x1 y1 x2 y2 …</c> (clipped to 0–1), when every row of the label file is a
    /// polygon (segmentation labels); null for box labels, and for files mixing boxes and polygons (Ultralytics' rule:
    /// the boxes are kept, the polygons dropped, with a warning).
    /// </summary>
    public float[][]? Segments { get; }
    public ImageStatus Status { get; }
    /// <summary>The warning for this file (duplicates removed, corrupt reason), or null.</summary>
    public string? Message { get; }
    /// <summary>True when there was no label file at all (as opposed to an empty one).</summary>
    public bool LabelMissing { get; }
    public int Count => Cls.Length;
}
