using Strix.Data;

namespace Strix.Inference;

/// <summary>
/// The instance masks of one image's detections (Ultralytics' <c>results.masks</c>): one 0/1 bitmap per detection at
/// the original image's size, held in a single buffer and handed out as spans (no copy), and each mask's outline as a
/// polygon in pixels (<see cref="Xy"/>) or normalised (<see cref="XyN"/>), traced on first use.
/// </summary>
public sealed class SegmentMasks
{
    readonly byte[] _data;
    readonly float[]?[] _polygons;

    /// <param name="count">Masks held (one per detection, in the detections' order).</param>
    /// <param name="height">Original image height.</param>
    /// <param name="width">Original image width.</param>
    /// <param name="data">count × height × width values, row-major, non-zero inside; kept, not copied.</param>
    public SegmentMasks(int count, int height, int width, byte[] data)
    {
        if (data.Length != (long)count * height * width) throw new ArgumentException($"{count} masks of {width}×{height} need {(long)count * height * width} values, got {data.Length}", nameof(data));
        Count = count; Height = height; Width = width; _data = data;
        _polygons = new float[]?[count];
    }

    public int Count { get; }
    public int Height { get; }
    public int Width { get; }

    /// <summary>Mask <paramref name="index"/>, row-major <see cref="Height"/>×<see cref="Width"/>.</summary>
    public ReadOnlySpan<byte> this[int index] => _data.AsSpan(Offset(index), Height * Width);

    /// <summary>All masks, [<see cref="Count"/>, <see cref="Height"/>, <see cref="Width"/>] row-major (Ultralytics' <c>masks.data</c>).</summary>
    public ReadOnlyMemory<byte> Data => _data;

    /// <summary>Pixels inside mask <paramref name="index"/>.</summary>
    public int Area(int index)
    {
        int n = 0;
        foreach (var v in this[index]) if (v != 0) n++;
        return n;
    }

    /// <summary>Mask <paramref name="index"/>'s outline: x, y pairs in pixels (the largest region's, see <see cref="MaskContours"/>); empty for an empty mask.</summary>
    public float[] Polygon(int index)
    {
        Offset(index);
        return _polygons[index] ??= MaskContours.Largest(this[index], Width, Height);
    }

    /// <summary>Every mask's outline in pixels (Ultralytics' <c>masks.xy</c>).</summary>
    public IReadOnlyList<float[]> Xy => Enumerable.Range(0, Count).Select(Polygon).ToArray();

    /// <summary>Every mask's outline normalised by the image size (<c>masks.xyn</c>, the label format's coordinates).</summary>
    public IReadOnlyList<float[]> XyN => Enumerable.Range(0, Count).Select(i =>
    {
        var p = Polygon(i);
        var n = new float[p.Length];
        for (int k = 0; k < p.Length; k += 2) { n[k] = p[k] / Width; n[k + 1] = p[k + 1] / Height; }
        return n;
    }).ToArray();

    /// <summary>The masks of the detections at <paramref name="indices"/>, in that order (a filtered or reordered result).</summary>
    public SegmentMasks Select(IReadOnlyList<int> indices)
    {
        int size = Height * Width;
        var data = new byte[indices.Count * size];
        for (int k = 0; k < indices.Count; k++) this[indices[k]].CopyTo(data.AsSpan(k * size));
        return new SegmentMasks(indices.Count, Height, Width, data);
    }

    int Offset(int index)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), $"mask {index} of {Count}");
        return index * Height * Width;
    }
}
