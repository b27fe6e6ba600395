namespace Strix.Data;

/// <summary>
/// Boxes travelling with an image through augmentation: class ids and pixel <c>x1 y1 x2 y2</c>
/// corners in the current image's coordinates, and for segmentation each object's polygon
/// (<see cref="Segments"/>, pixel <c>x y</c> pairs in the same coordinates), for pose each object's keypoints
/// (<see cref="Keypoints"/>, pixel <c>x y v</c> triples), moved by every step that moves the boxes.
/// </summary>
public sealed class Instances
{
    public Instances(float[] cls, float[] xyxy, float[][]? segments = null, float[][]? keypoints = null)
    {
        if (xyxy.Length != cls.Length * 4) throw new ArgumentException("xyxy must hold 4 numbers per class entry");
        if (segments is not null && segments.Length != cls.Length) throw new ArgumentException("segments must hold one polygon per class entry");
        if (keypoints is not null && keypoints.Length != cls.Length) throw new ArgumentException("keypoints must hold one set per class entry");
        Cls = cls; Xyxy = xyxy; Segments = segments; Keypoints = keypoints;
    }

    /// <summary>
    /// Pose: per object its K keypoints as pixel <c>x y v</c> (v: 0 not labelled or out of the image, 1 occluded, 2
    /// visible; labels without visibility read as 2); null without keypoints. A step that moves a point out of the image
    /// sets its v to 0 and leaves the point where it went, as Ultralytics does.
    /// </summary>
    public float[][]? Keypoints { get; }

    public static Instances Empty => new(Array.Empty<float>(), Array.Empty<float>());

    /// <summary>Class id per box.</summary>
    public float[] Cls { get; }
    /// <summary>Pixel corners, 4 per box.</summary>
    public float[] Xyxy { get; }
    /// <summary>Per object its polygon as pixel <c>x1 y1 x2 y2 …</c>; null when the labels are boxes only.</summary>
    public float[][]? Segments { get; }
    public int Count => Cls.Length;

    /// <summary>
    /// Points each polygon is resampled to when it enters augmentation (as Ultralytics does): evenly spaced points keep the
    /// outline's shape under warping and clipping, and the box taken from the points that stay inside the image is tight.
    /// </summary>
    public const int SegmentPoints = 1000;

    /// <summary>Points an oriented box's outline is resampled to (Ultralytics' 100 for OBB): enough for its smallest rectangle after clipping.</summary>
    public const int OrientedBoxPoints = 100;

    /// <summary>
    /// OBB: per object the smallest-area rectangle around its polygon (<see cref="Polygons.MinAreaRect"/>) as pixel
    /// <c>cx cy w h angle</c>; an object without polygon points gets its box, unrotated.
    /// </summary>
    public float[] MinAreaRects()
    {
        var r = new float[Count * 5];
        for (int i = 0; i < Count; i++)
        {
            var s = Segments?[i];
            (float Cx, float Cy, float W, float H, float A) rect = s is { Length: >= 2 }
                ? Polygons.MinAreaRect(s)
                : ((Xyxy[4 * i] + Xyxy[4 * i + 2]) / 2, (Xyxy[4 * i + 1] + Xyxy[4 * i + 3]) / 2, Xyxy[4 * i + 2] - Xyxy[4 * i], Xyxy[4 * i + 3] - Xyxy[4 * i + 1], 0f);
            (r[5 * i], r[5 * i + 1], r[5 * i + 2], r[5 * i + 3], r[5 * i + 4]) = rect;
        }
        return r;
    }

    /// <summary>The four corners of each normalised centre box (x1 y1 … x4 y4), as an unrotated OBB outline.</summary>
    public static float[][] BoxCorners(float[] xywh)
    {
        var r = new float[xywh.Length / 4][];
        for (int i = 0; i < r.Length; i++)
        {
            float cx = xywh[4 * i], cy = xywh[4 * i + 1], hw = xywh[4 * i + 2] / 2, hh = xywh[4 * i + 3] / 2;
            r[i] = new[] { cx - hw, cy - hh, cx + hw, cy - hh, cx + hw, cy + hh, cx - hw, cy + hh };
        }
        return r;
    }

    /// <summary>From normalised centre boxes on an image of <paramref name="w"/>×<paramref name="h"/>, shifted by (padW, padH).</summary>
    public static Instances FromNormalizedXywh(float[] cls, float[] xywh, float w, float h, float padW = 0, float padH = 0) =>
        FromNormalized(cls, xywh, null, w, h, padW, padH);

    /// <summary>
    /// As <see cref="FromNormalizedXywh"/>, with normalised polygons (null: boxes only) scaled to pixels and resampled to
    /// <paramref name="segmentPoints"/> points each (0 keeps the vertices as written).
    /// </summary>
    public static Instances FromNormalized(float[] cls, float[] xywh, float[][]? segments, float w, float h,
        float padW = 0, float padH = 0, int segmentPoints = 0, float[][]? keypoints = null)
    {
        var b = new float[xywh.Length];
        for (int i = 0; i < xywh.Length; i += 4)
        {
            float cx = xywh[i] * w, cy = xywh[i + 1] * h, bw = xywh[i + 2] * w, bh = xywh[i + 3] * h;
            b[i] = cx - bw / 2 + padW; b[i + 1] = cy - bh / 2 + padH;
            b[i + 2] = cx + bw / 2 + padW; b[i + 3] = cy + bh / 2 + padH;
        }
        float[][]? segs = null;
        if (segments is not null)
        {
            segs = new float[segments.Length][];
            for (int k = 0; k < segments.Length; k++)
            {
                var src = segmentPoints > 0 ? Polygons.Resample(segments[k], segmentPoints) : segments[k];
                segs[k] = ScaleShift(src, w, h, padW, padH);
            }
        }
        var kpts = keypoints?.Select(k => MapPoints(k, (x, y) => (x * w + padW, y * h + padH))).ToArray();
        return new Instances((float[])cls.Clone(), b, segs, kpts);
    }

    /// <summary>Normalised centre boxes relative to an image of <paramref name="w"/>×<paramref name="h"/>.</summary>
    public float[] ToNormalizedXywh(float w, float h)
    {
        var r = new float[Xyxy.Length];
        for (int i = 0; i < Xyxy.Length; i += 4)
        {
            r[i] = (Xyxy[i] + Xyxy[i + 2]) / 2 / w;
            r[i + 1] = (Xyxy[i + 1] + Xyxy[i + 3]) / 2 / h;
            r[i + 2] = (Xyxy[i + 2] - Xyxy[i]) / w;
            r[i + 3] = (Xyxy[i + 3] - Xyxy[i + 1]) / h;
        }
        return r;
    }

    /// <summary>Scales then shifts every box and polygon: <c>x·sx + dx</c>, <c>y·sy + dy</c>.</summary>
    public Instances Affine(float sx, float sy, float dx, float dy)
    {
        var b = new float[Xyxy.Length];
        for (int i = 0; i < b.Length; i += 4)
        {
            b[i] = Xyxy[i] * sx + dx; b[i + 1] = Xyxy[i + 1] * sy + dy;
            b[i + 2] = Xyxy[i + 2] * sx + dx; b[i + 3] = Xyxy[i + 3] * sy + dy;
        }
        var segs = Segments?.Select(s => ScaleShift(s, sx, sy, dx, dy)).ToArray();
        var kpts = Keypoints?.Select(k => MapPoints(k, (x, y) => (x * sx + dx, y * sy + dy))).ToArray();
        return new Instances(Cls, b, segs, kpts);
    }

    /// <summary>Keypoints <c>x y v</c> with each point moved by <paramref name="map"/> (a new array; v kept).</summary>
    public static float[] MapPoints(float[] kpts, Func<float, float, (float X, float Y)> map)
    {
        var d = new float[kpts.Length];
        for (int i = 0; i < d.Length; i += 3)
        {
            (d[i], d[i + 1]) = map(kpts[i], kpts[i + 1]);
            d[i + 2] = kpts[i + 2];
        }
        return d;
    }

    /// <summary>Sets v = 0 for every keypoint outside [0, w]×[0, h] (in place).</summary>
    public void HideKeypointsOutside(float w, float h)
    {
        foreach (var k in Keypoints ?? Array.Empty<float[]>())
            for (int i = 0; i < k.Length; i += 3)
                if (k[i] < 0 || k[i + 1] < 0 || k[i] > w || k[i + 1] > h) k[i + 2] = 0;
    }

    /// <summary>A polygon's points as <c>x·sx + dx</c>, <c>y·sy + dy</c> (a new array).</summary>
    static float[] ScaleShift(float[] xy, float sx, float sy, float dx, float dy)
    {
        var d = new float[xy.Length];
        for (int i = 0; i < d.Length; i += 2) { d[i] = xy[i] * sx + dx; d[i + 1] = xy[i + 1] * sy + dy; }
        return d;
    }

    /// <summary>Clips every box and every polygon vertex to [0, w]×[0, h] in place; keypoints outside are hidden (v = 0), not moved.</summary>
    public void Clip(float w, float h)
    {
        HideKeypointsOutside(w, h);
        for (int i = 0; i < Xyxy.Length; i += 4)
        {
            Xyxy[i] = Math.Clamp(Xyxy[i], 0, w); Xyxy[i + 2] = Math.Clamp(Xyxy[i + 2], 0, w);
            Xyxy[i + 1] = Math.Clamp(Xyxy[i + 1], 0, h); Xyxy[i + 3] = Math.Clamp(Xyxy[i + 3], 0, h);
        }
        if (Segments is null) return;
        foreach (var s in Segments)
            for (int i = 0; i < s.Length; i += 2) { s[i] = Math.Clamp(s[i], 0, w); s[i + 1] = Math.Clamp(s[i + 1], 0, h); }
    }

    /// <summary>The boxes (and polygons) for which <paramref name="keep"/> is true.</summary>
    public Instances Where(Func<int, bool> keep) => Select(Enumerable.Range(0, Count).Where(keep).ToArray());

    /// <summary>The objects at <paramref name="indices"/>, in that order (a subset, or a reordering).</summary>
    public Instances Select(IReadOnlyList<int> indices)
    {
        var cls = new float[indices.Count];
        var xyxy = new float[indices.Count * 4];
        var segs = Segments is null ? null : new float[indices.Count][];
        var kpts = Keypoints is null ? null : new float[indices.Count][];
        for (int k = 0; k < indices.Count; k++)
        {
            cls[k] = Cls[indices[k]];
            Array.Copy(Xyxy, 4 * indices[k], xyxy, 4 * k, 4);
            if (segs is not null) segs[k] = Segments![indices[k]];
            if (kpts is not null) kpts[k] = Keypoints![indices[k]];
        }
        return new Instances(cls, xyxy, segs, kpts);
    }

    /// <summary>Drops boxes with no width or height (after clipping, e.g. outside a mosaic tile).</summary>
    public Instances RemoveZeroArea() => Where(i => Xyxy[4 * i + 2] > Xyxy[4 * i] && Xyxy[4 * i + 3] > Xyxy[4 * i + 1]);

    /// <summary>
    /// All parts' objects in one. Polygons survive only when every part with objects has them (a tile without polygons would leave
    /// objects without masks, so then all polygons are dropped and the boxes kept, as for a mixed label file).
    /// </summary>
    public static Instances Concat(IEnumerable<Instances> parts)
    {
        var list = parts.ToList();
        bool polygons = list.Any(p => p.Segments is not null) && list.All(p => p.Segments is not null || p.Count == 0);
        var segs = polygons ? list.SelectMany(p => p.Segments ?? Array.Empty<float[]>()).ToArray() : null;
        // Keypoints: every part has them in a pose dataset (an image without objects has an empty list).
        bool keypoints = list.Any(p => p.Keypoints is not null) && list.All(p => p.Keypoints is not null || p.Count == 0);
        var kpts = keypoints ? list.SelectMany(p => p.Keypoints ?? Array.Empty<float[]>()).ToArray() : null;
        return new Instances(list.SelectMany(p => p.Cls).ToArray(), list.SelectMany(p => p.Xyxy).ToArray(), segs, kpts);
    }
}
