namespace Strix.Data;

/// <summary>One image as the model will see it, with its boxes: the output of <see cref="YoloDataset.Load"/>.</summary>
public sealed class Sample
{
    public Sample(RgbImage image, float[] cls, float[] boxes, string file, (int Height, int Width) originalShape,
        (int Height, int Width) resizedShape, (double RatioW, double RatioH, double PadW, double PadH) ratioPad,
        float[][]? segments = null, InstanceMasks? masks = null, float[][]? keypoints = null, float[]? orientedBoxes = null)
    {
        if (orientedBoxes is not null && orientedBoxes.Length != cls.Length * 5) throw new ArgumentException("oriented boxes must hold 5 numbers per class entry");
        OrientedBoxes = orientedBoxes;
        if (keypoints is not null && keypoints.Length != cls.Length) throw new ArgumentException("keypoints must hold one set per class entry");
        Keypoints = keypoints;
        if (boxes.Length != cls.Length * 4) throw new ArgumentException("boxes must hold 4 numbers per class entry");
        if (segments is not null && segments.Length != cls.Length) throw new ArgumentException("segments must hold one polygon per class entry");
        if (masks is not null && masks.Count != cls.Length) throw new ArgumentException($"masks describe {masks.Count} objects, the sample has {cls.Length}");
        Image = image; Cls = cls; Boxes = boxes; File = file;
        OriginalShape = originalShape; ResizedShape = resizedShape; RatioPad = ratioPad;
        Segments = segments; Masks = masks;
    }

    /// <summary>The augmented (or letterboxed) image.</summary>
    public RgbImage Image { get; }
    /// <summary>Class id per box.</summary>
    public float[] Cls { get; }
    /// <summary>Normalised centre <c>x y w h</c> per box, relative to <see cref="Image"/>.</summary>
    public float[] Boxes { get; }
    public string File { get; }
    /// <summary>Segmentation: per object its polygon, normalised <c>x y</c> pairs relative to <see cref="Image"/>; null for boxes only.</summary>
    public float[][]? Segments { get; }
    /// <summary>Segmentation: the target masks at 1/mask_ratio (objects in the order of <see cref="Cls"/>); null when not segmenting.</summary>
    public InstanceMasks? Masks { get; }
    /// <summary>Size of the image file (after EXIF orientation).</summary>
    public (int Height, int Width) OriginalShape { get; }
    /// <summary>Size after the initial resize to long side imgsz, before letterbox padding or mosaic.</summary>
    public (int Height, int Width) ResizedShape { get; }
    /// <summary>
    /// Letterbox mapping from the original image to <see cref="Image"/>: <c>x_img = x_orig·RatioW + PadW</c>.
    /// Exact for validation samples; for augmented samples only the resize ratio (pad 0) is meaningful.
    /// </summary>
    public (double RatioW, double RatioH, double PadW, double PadH) RatioPad { get; }
    /// <summary>Pose: per object its keypoints as normalised <c>x y v</c> relative to <see cref="Image"/>; null otherwise.</summary>
    public float[][]? Keypoints { get; }
    /// <summary>
    /// OBB: per object its rotated box <c>cx cy w h angle</c>, the first four normalised by the image's width and height
    /// (as Ultralytics collates them), the angle in radians in [0, π) with w ≥ h; null otherwise.
    /// </summary>
    public float[]? OrientedBoxes { get; }
    public int Count => Cls.Length;
}
