using Strix.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Strix.Data;

/// <summary>
/// A collated batch in the layout YOLO's loss and validator consume. The caller owns the tensors:
/// dispose the batch once its tensors have been moved or used.
/// </summary>
public sealed class Batch : IDisposable
{
    /// <summary>uint8 <c>[B,3,H,W]</c> RGB (<see cref="FloatImages(Device, bool)"/> makes the model input).</summary>
    public Tensor Images = null!;
    /// <summary>float32 <c>[N]</c>: index of the image in the batch for each box.</summary>
    public Tensor BatchIdx = null!;
    /// <summary>float32 <c>[N]</c>: class id.</summary>
    public Tensor Cls = null!;
    /// <summary>float32 <c>[N,4]</c>: normalised centre <c>x y w h</c> relative to the batch image W, H.</summary>
    public Tensor Bboxes = null!;
    /// <summary>
    /// Segmentation targets at 1/mask_ratio, or null: with overlap int32 <c>[B, H/r, W/r]</c> holding, per pixel, 1 + the
    /// index within its image of the object on top (0 = none); without overlap uint8 <c>[N, H/r, W/r]</c>, one 0/1 mask per box.
    /// </summary>
    public Tensor? Masks;
    /// <summary>Segmentation: per box (in batch order) its polygon, normalised to the batch image; null without polygons.</summary>
    public float[][]? Segments;
    /// <summary>Pose: float32 <c>[N, K, 3]</c> keypoints per box, normalised <c>x y</c> and visibility v (0, 1, 2); null otherwise.</summary>
    public Tensor? Keypoints;
    /// <summary>OBB: float32 <c>[N, 5]</c> rotated boxes per box row, <c>cx cy w h</c> normalised to the batch image and the angle in radians; null otherwise.</summary>
    public Tensor? OrientedBoxes;
    public string[] Files = Array.Empty<string>();
    /// <summary>Image size before any resize.</summary>
    public (int Height, int Width)[] OriginalShapes = Array.Empty<(int, int)>();
    /// <summary>Size after the resize to long side imgsz, before padding.</summary>
    public (int Height, int Width)[] ResizedShapes = Array.Empty<(int, int)>();
    /// <summary>Letterbox ratio and left/top padding per image (validation): <c>x_batch = x_orig·Ratio + Pad</c>.</summary>
    public (double RatioW, double RatioH, double PadW, double PadH)[] RatioPad = Array.Empty<(double, double, double, double)>();
    /// <summary>B, the number of images.</summary>
    public int Count;

    /// <summary>
    /// <see cref="Images"/> as the model's input: float32 in 0–1 on <paramref name="device"/> (Ultralytics'
    /// preprocess). The caller owns the result.
    /// </summary>
    public Tensor FloatImages(Device device) => FloatImages(device, channelsLast: false);

    /// <summary>
    /// The model's input on <paramref name="device"/> in the layout it runs fastest in there: channels-last on
    /// the CPU (oneDNN's NHWC kernels, see <see cref="MemoryFormat"/>), NCHW elsewhere (not measured).
    /// Training and validation both use it, so they see the same numbers.
    /// </summary>
    public Tensor ModelInput(Device device) => FloatImages(device, channelsLast: MemoryFormat.PreferredOn(device));

    /// <summary>
    /// As <see cref="FloatImages(Device)"/>; with <paramref name="channelsLast"/> the result is stored
    /// N, H, W, C (<see cref="MemoryFormat"/>), made in the same single conversion pass.
    /// </summary>
    public Tensor FloatImages(Device device, bool channelsLast)
    {
        using var scope = NewDisposeScope();
        var x = Images.to(device, non_blocking: true);
        if (!channelsLast || x.dim() != 4) return x.to(ScalarType.Float32).div_(Scalars.PixelMax).MoveToOuterDisposeScope();
        var nhwc = x.permute(0, 2, 3, 1).to(ScalarType.Float32).contiguous().div_(Scalars.PixelMax);
        return nhwc.permute(0, 3, 1, 2).MoveToOuterDisposeScope();
    }

    /// <summary>Stacks samples of equal size into one batch.</summary>
    public static unsafe Batch Collate(IReadOnlyList<Sample> samples)
    {
        if (samples.Count == 0) throw new ArgumentException("cannot collate an empty batch");
        int h = samples[0].Image.Height, w = samples[0].Image.Width, plane = h * w;
        foreach (var s in samples)
            if (s.Image.Height != h || s.Image.Width != w)
                throw new InvalidOperationException($"{s.File}: sample is {s.Image.Width}x{s.Image.Height}, batch is {w}x{h}");
        int b = samples.Count, n = samples.Sum(s => s.Count);
        var images = empty(new long[] { b, 3, h, w }, ScalarType.Byte);
        var dst = images.bytes;
        fixed (byte* d0 = dst)
        {
            for (int i = 0; i < b; i++)
            {
                fixed (byte* s0 = samples[i].Image.Pixels)
                {
                    byte* r = d0 + (long)i * 3 * plane, g = r + plane, bl = g + plane, s = s0;
                    for (int k = 0; k < plane; k++, s += 3) { r[k] = s[0]; g[k] = s[1]; bl[k] = s[2]; }
                }
            }
        }
        var idx = new float[n]; var cls = new float[n]; var boxes = new float[n * 4];
        int o = 0;
        for (int i = 0; i < b; i++)
        {
            var s = samples[i];
            for (int j = 0; j < s.Count; j++, o++)
            {
                idx[o] = i; cls[o] = s.Cls[j];
                Array.Copy(s.Boxes, 4 * j, boxes, 4 * o, 4);
            }
        }
        return new Batch
        {
            Images = images,
            Masks = CollateMasks(samples),
            Segments = samples.All(s => s.Segments is not null) ? samples.SelectMany(s => s.Segments!).ToArray() : null,
            Keypoints = CollateKeypoints(samples, n),
            OrientedBoxes = CollateOrientedBoxes(samples, n),
            BatchIdx = tensor(idx, new long[] { n }),
            Cls = tensor(cls, new long[] { n }),
            Bboxes = tensor(boxes, new long[] { n, 4 }),
            Files = samples.Select(s => s.File).ToArray(),
            OriginalShapes = samples.Select(s => s.OriginalShape).ToArray(),
            ResizedShapes = samples.Select(s => s.ResizedShape).ToArray(),
            RatioPad = samples.Select(s => s.RatioPad).ToArray(),
            Count = b,
        };
    }

    /// <summary>The samples' keypoints as [N, K, 3] in box order; null when none has keypoints.</summary>
    static Tensor? CollateKeypoints(IReadOnlyList<Sample> samples, int n)
    {
        if (samples.All(s => s.Keypoints is null)) return null;
        int per = samples.Where(s => s.Keypoints is not null).SelectMany(s => s.Keypoints!).FirstOrDefault()?.Length ?? 0;
        if (per == 0) return zeros(new long[] { n, 0, 3 });
        var data = new float[n * per];
        int o = 0;
        foreach (var s in samples)
        {
            var kps = s.Keypoints ?? throw new InvalidOperationException($"{s.File}: sample has no keypoints, others in its batch do");
            foreach (var k in kps)
            {
                if (k.Length != per) throw new InvalidOperationException($"{s.File}: {k.Length / 3} keypoints, others in its batch have {per / 3}");
                Array.Copy(k, 0, data, o, per);
                o += per;
            }
        }
        return tensor(data, new long[] { n, per / 3, 3 });
    }

    /// <summary>The samples' rotated boxes as [N, 5] in box order; null when none has them.</summary>
    static Tensor? CollateOrientedBoxes(IReadOnlyList<Sample> samples, int n)
    {
        if (samples.All(s => s.OrientedBoxes is null)) return null;
        var data = new float[n * 5];
        int o = 0;
        foreach (var s in samples)
        {
            var r = s.OrientedBoxes ?? throw new InvalidOperationException($"{s.File}: sample has no oriented boxes, others in its batch do");
            Array.Copy(r, 0, data, o, r.Length);
            o += r.Length;
        }
        return tensor(data, new long[] { n, 5 });
    }

    static Tensor? CollateMasks(IReadOnlyList<Sample> samples)
    {
        if (samples.All(s => s.Masks is null)) return null;
        var first = samples[0].Masks ?? throw new InvalidOperationException($"{samples[0].File}: sample has no masks, others in its batch do");
        int mh = first.Height, mw = first.Width, plane = mh * mw;
        foreach (var s in samples)
            if (s.Masks is not { } m || m.Height != mh || m.Width != mw || m.Overlap != first.Overlap)
                throw new InvalidOperationException($"{s.File}: its masks do not match the batch's ({mw}x{mh}, overlap {first.Overlap})");
        if (first.Overlap)
        {
            var index = new int[samples.Count * plane];
            for (int i = 0; i < samples.Count; i++)
            {
                var src = samples[i].Masks!.Index!;
                for (int k = 0; k < plane; k++) index[i * plane + k] = src[k];
            }
            return tensor(index, new long[] { samples.Count, mh, mw });
        }
        int n = samples.Sum(s => s.Masks!.Count);
        var binary = new byte[(long)n * plane];
        long o = 0;
        foreach (var s in samples)
        {
            var src = s.Masks!.Binary!;
            Buffer.BlockCopy(src, 0, binary, (int)o, src.Length);
            o += src.Length;
        }
        return tensor(binary, new long[] { n, mh, mw });
    }

    /// <summary>A copy of this batch on <paramref name="device"/> (new tensors, the same per-image records); the caller disposes it.</summary>
    public Batch To(Device device) => new()
    {
        Images = Images.to(device), BatchIdx = BatchIdx.to(device), Cls = Cls.to(device), Bboxes = Bboxes.to(device),
        Masks = Masks?.to(device), Keypoints = Keypoints?.to(device), OrientedBoxes = OrientedBoxes?.to(device), Segments = Segments, Files = Files, OriginalShapes = OriginalShapes, ResizedShapes = ResizedShapes, RatioPad = RatioPad, Count = Count,
    };

    /// <summary>
    /// The target masks of one image's objects [m, H/r, W/r] as 0/1 floats, in the order of <paramref name="rows"/> (their
    /// rows in the batch): from the overlap plane (the image's k-th object is the pixels numbered k + 1) or the per-object
    /// planes. An image whose labels are boxes only has empty masks. The caller owns the result.
    /// </summary>
    public Tensor ObjectMasks(int image, IReadOnlyList<int> rows)
    {
        var masks = Masks ?? throw new ArgumentException($"{Files[image]}: the batch has no target masks (load the data with DataLoaderOptions.Segments)");
        using var scope = NewDisposeScope();
        if (masks.dtype == ScalarType.Int32)
        {
            var ids = tensor(Enumerable.Range(1, rows.Count).ToArray(), device: masks.device).view(-1, 1, 1);
            return masks[image].unsqueeze(0).eq(ids).to(ScalarType.Float32).MoveToOuterDisposeScope();
        }
        var index = tensor(rows.Select(r => (long)r).ToArray(), device: masks.device);
        return masks.index_select(0, index).to(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        Images?.Dispose(); BatchIdx?.Dispose(); Cls?.Dispose(); Bboxes?.Dispose(); Masks?.Dispose(); Keypoints?.Dispose(); OrientedBoxes?.Dispose();
    }
}
