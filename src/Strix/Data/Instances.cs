namespace Strix.Data;

/// <summary>
/// Boxes travelling with an image through augmentation: class ids and pixel <c>x1 y1 x2 y2</c>
/// corners in the current image's coordinates.
/// </summary>
public sealed class Instances
{
    public Instances(float[] cls, float[] xyxy)
    {
        if (xyxy.Length != cls.Length * 4) throw new ArgumentException("xyxy must hold 4 numbers per class entry");
        Cls = cls; Xyxy = xyxy;
    }

    public static Instances Empty => new(Array.Empty<float>(), Array.Empty<float>());

    /// <summary>Class id per box.</summary>
    public float[] Cls { get; }
    /// <summary>Pixel corners, 4 per box.</summary>
    public float[] Xyxy { get; }
    public int Count => Cls.Length;

    /// <summary>From normalised centre boxes on an image of <paramref name="w"/>×<paramref name="h"/>, shifted by (padW, padH).</summary>
    public static Instances FromNormalizedXywh(float[] cls, float[] xywh, float w, float h, float padW = 0, float padH = 0)
    {
        var b = new float[xywh.Length];
        for (int i = 0; i < xywh.Length; i += 4)
        {
            float cx = xywh[i] * w, cy = xywh[i + 1] * h, bw = xywh[i + 2] * w, bh = xywh[i + 3] * h;
            b[i] = cx - bw / 2 + padW; b[i + 1] = cy - bh / 2 + padH;
            b[i + 2] = cx + bw / 2 + padW; b[i + 3] = cy + bh / 2 + padH;
        }
        return new Instances((float[])cls.Clone(), b);
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

    /// <summary>Scales then shifts every box: <c>x·sx + dx</c>, <c>y·sy + dy</c>.</summary>
    public Instances Affine(float sx, float sy, float dx, float dy)
    {
        var b = new float[Xyxy.Length];
        for (int i = 0; i < b.Length; i += 4)
        {
            b[i] = Xyxy[i] * sx + dx; b[i + 1] = Xyxy[i + 1] * sy + dy;
            b[i + 2] = Xyxy[i + 2] * sx + dx; b[i + 3] = Xyxy[i + 3] * sy + dy;
        }
        return new Instances(Cls, b);
    }

    /// <summary>Clips every box to [0, w]×[0, h] in place.</summary>
    public void Clip(float w, float h)
    {
        for (int i = 0; i < Xyxy.Length; i += 4)
        {
            Xyxy[i] = Math.Clamp(Xyxy[i], 0, w); Xyxy[i + 2] = Math.Clamp(Xyxy[i + 2], 0, w);
            Xyxy[i + 1] = Math.Clamp(Xyxy[i + 1], 0, h); Xyxy[i + 3] = Math.Clamp(Xyxy[i + 3], 0, h);
        }
    }

    /// <summary>The boxes for which <paramref name="keep"/> is true.</summary>
    public Instances Where(Func<int, bool> keep)
    {
        var cls = new List<float>(Count);
        var b = new List<float>(Xyxy.Length);
        for (int i = 0; i < Count; i++)
        {
            if (!keep(i)) continue;
            cls.Add(Cls[i]);
            for (int k = 0; k < 4; k++) b.Add(Xyxy[4 * i + k]);
        }
        return new Instances(cls.ToArray(), b.ToArray());
    }

    /// <summary>Drops boxes with no width or height (after clipping, e.g. outside a mosaic tile).</summary>
    public Instances RemoveZeroArea() => Where(i => Xyxy[4 * i + 2] > Xyxy[4 * i] && Xyxy[4 * i + 3] > Xyxy[4 * i + 1]);

    public static Instances Concat(IEnumerable<Instances> parts)
    {
        var list = parts.ToList();
        return new Instances(list.SelectMany(p => p.Cls).ToArray(), list.SelectMany(p => p.Xyxy).ToArray());
    }
}
