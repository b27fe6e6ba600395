namespace Strix.Data;

/// <summary>
/// Target masks of one image at 1/<c>mask_ratio</c> of its size, as the segmentation loss reads them. With overlap
/// (Ultralytics' <c>overlap_mask=True</c>) one index plane holds every object: 0 background, k + 1 where object k is on
/// top (objects sorted by mask area, largest first, so a small object lying on a large one stays visible). Without
/// overlap, one 0/1 plane per object.
/// </summary>
public sealed class InstanceMasks
{
    InstanceMasks(byte[]? binary, ushort[]? index, int count, int height, int width)
    {
        Binary = binary; Index = index; Count = count; Height = height; Width = width;
    }

    /// <summary>Without overlap: Count × Height × Width bytes (0/1), row-major; null with overlap.</summary>
    public byte[]? Binary { get; }
    /// <summary>With overlap: Height × Width object numbers (0 = none, k + 1 = object k); null without.</summary>
    public ushort[]? Index { get; }
    public bool Overlap => Index is not null;
    /// <summary>Objects the masks describe.</summary>
    public int Count { get; }
    public int Height { get; }
    public int Width { get; }

    /// <summary>
    /// Rasterises the polygons of <paramref name="labels"/> (pixels of an <paramref name="imageWidth"/>×<paramref name="imageHeight"/>
    /// image) at 1/<paramref name="ratio"/>. With <paramref name="overlap"/> the objects are ordered by mask area, largest first:
    /// <c>Order[k]</c> is the index in <paramref name="labels"/> of the object numbered k + 1 (without overlap, 0, 1, …).
    /// </summary>
    public static (InstanceMasks Masks, int[] Order) Rasterize(Instances labels, int imageWidth, int imageHeight, int ratio, bool overlap)
    {
        if (ratio < 1) throw new ArgumentOutOfRangeException(nameof(ratio), "mask_ratio must be at least 1");
        var segs = labels.Segments ?? throw new ArgumentException("these labels have no polygons to rasterise");
        int mh = imageHeight / ratio, mw = imageWidth / ratio, plane = mh * mw, n = labels.Count;
        var identity = Enumerable.Range(0, n).ToArray();
        if (!overlap)
        {
            var data = new byte[n * plane];
            for (int i = 0; i < n; i++) Polygons.Fill(segs[i], ratio, data, mw, mh, 1, i * plane);
            return (new InstanceMasks(data, null, n, mh, mw), identity);
        }
        // Areas of the rasterised masks (what the loss will see), then paint largest first so smaller ones end on top.
        var area = new int[n];
        for (int i = 0; i < n; i++) area[i] = Polygons.PixelCount(segs[i], ratio, mw, mh);
        var order = identity.OrderByDescending(i => area[i]).ThenBy(i => i).ToArray();
        if (n > ushort.MaxValue) throw new InvalidDataException($"{n} objects in one image; an overlap mask holds at most {ushort.MaxValue}");
        var index = new ushort[plane];
        for (int k = 0; k < n; k++) Polygons.Fill(segs[order[k]], ratio, index, mw, mh, (ushort)(k + 1));
        return (new InstanceMasks(null, index, n, mh, mw), order);
    }
}
