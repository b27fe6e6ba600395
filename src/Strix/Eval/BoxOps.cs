using Strix.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Strix.Eval;

/// <summary>
/// Box geometry shared by NMS, matching and the validator: pairwise IoU, xywh↔xyxy, mapping boxes
/// from the letterboxed model input back to the original image, clipping. Tensor versions work on
/// any device and dtype; the span versions serve the per-image matcher, where a few hundred boxes
/// make tensor-op dispatch cost more than the arithmetic.
/// </summary>
public static class BoxOps
{
    /// <summary>Added to IoU denominators so degenerate (zero-area) boxes give 0, not NaN (Ultralytics' value).</summary>
    public const double Eps = 1e-7;

    /// <summary>IoU of two corner boxes given as numbers (0 when they do not overlap or are empty): the one scalar form, for trackers and tracking metrics.</summary>
    public static double Iou(double ax1, double ay1, double ax2, double ay2, double bx1, double by1, double bx2, double by2)
    {
        double iw = Math.Min(ax2, bx2) - Math.Max(ax1, bx1), ih = Math.Min(ay2, by2) - Math.Max(ay1, by1);
        if (iw <= 0 || ih <= 0) return 0;
        double inter = iw * ih, union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter;
        return union <= 0 ? 0 : inter / union;
    }

    /// <summary>
    /// Pairwise IoU of xyxy boxes: <paramref name="boxes1"/> [N,4] × <paramref name="boxes2"/> [M,4] → [N,M],
    /// in one broadcast (no loops). Half-precision inputs are computed in float32.
    /// </summary>
    public static Tensor Iou(Tensor boxes1, Tensor boxes2, double eps = Eps)
    {
        CheckBoxes(boxes1, nameof(boxes1));
        CheckBoxes(boxes2, nameof(boxes2));
        using var scope = NewDisposeScope();
        var a = AtLeastFloat32(boxes1);
        var b = AtLeastFloat32(boxes2);
        var a1 = a.narrow(1, 0, 2).unsqueeze(1); // [N,1,2]
        var a2 = a.narrow(1, 2, 2).unsqueeze(1);
        var b1 = b.narrow(1, 0, 2).unsqueeze(0); // [1,M,2]
        var b2 = b.narrow(1, 2, 2).unsqueeze(0);
        Held inter = (minimum(a2, b2) - maximum(a1, b1)).clamp_(min: Scalars.Zero).prod(2); // [N,M]
        Held areaA = (a2 - a1).prod(2);                                          // [N,1]
        Held areaB = (b2 - b1).prod(2);                                          // [1,M]
        return (inter / (areaA + areaB - inter + eps)).T.MoveToOuterDisposeScope();
    }

    /// <summary>Centre xywh → corner xyxy over the last dimension (any leading shape).</summary>
    public static Tensor XywhToXyxy(Tensor xywh)
    {
        CheckLast4(xywh, nameof(xywh));
        using var scope = NewDisposeScope();
        Held xy = xywh.narrow(-1, 0, 2), half = (Held)xywh.narrow(-1, 2, 2) / 2;
        return cat(new[] { (xy - half).T, (xy + half).T }, -1).MoveToOuterDisposeScope();
    }

    /// <summary>Corner xyxy → centre xywh over the last dimension (any leading shape).</summary>
    public static Tensor XyxyToXywh(Tensor xyxy)
    {
        CheckLast4(xyxy, nameof(xyxy));
        using var scope = NewDisposeScope();
        Held p1 = xyxy.narrow(-1, 0, 2), p2 = xyxy.narrow(-1, 2, 2);
        return cat(new[] { ((p1 + p2) / 2).T, (p2 - p1).T }, -1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Clips xyxy boxes (last dimension 4) to an image of <paramref name="width"/>×<paramref name="height"/>
    /// pixels; returns a new tensor.
    /// </summary>
    public static Tensor Clip(Tensor xyxy, int height, int width)
    {
        CheckLast4(xyxy, nameof(xyxy));
        using var scope = NewDisposeScope();
        using var w = width.ToScalar();
        using var h = height.ToScalar();
        var x = xyxy.index_select(-1, tensor(new long[] { 0, 2 }, device: xyxy.device)).clamp(Scalars.Zero, w);
        var y = xyxy.index_select(-1, tensor(new long[] { 1, 3 }, device: xyxy.device)).clamp(Scalars.Zero, h);
        var r = stack(new[] { x.select(-1, 0), y.select(-1, 0), x.select(-1, 1), y.select(-1, 1) }, -1);
        return r.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Maps xyxy boxes from the letterboxed model input back to the original image and clips them:
    /// original = (input − pad) / ratio, the inverse of <see cref="Data.Letterbox"/>'s
    /// input = original · ratio + pad. Returns a new tensor.
    /// </summary>
    public static Tensor ScaleBoxes(Tensor xyxy, double ratioW, double ratioH, double padW, double padH,
        int originalHeight, int originalWidth)
    {
        CheckLast4(xyxy, nameof(xyxy));
        if (ratioW <= 0 || ratioH <= 0) throw new ArgumentOutOfRangeException(nameof(ratioW), $"letterbox ratios must be positive (got {ratioW}, {ratioH})");
        using var scope = NewDisposeScope();
        var pad = tensor(new[] { padW, padH, padW, padH }, dtype: xyxy.dtype, device: xyxy.device);
        var gain = tensor(new[] { ratioW, ratioH, ratioW, ratioH }, dtype: xyxy.dtype, device: xyxy.device);
        return Clip((xyxy - pad) / gain, originalHeight, originalWidth).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// As <see cref="ScaleBoxes(Tensor,double,double,double,double,int,int)"/> when the letterbox
    /// parameters were not kept: they are recomputed the way a centred letterbox makes them
    /// (one gain for both axes, padding split around the image).
    /// </summary>
    public static Tensor ScaleBoxes(Tensor xyxy, int inputHeight, int inputWidth, int originalHeight, int originalWidth)
    {
        var (ratio, padW, padH) = LetterboxParameters(inputHeight, inputWidth, originalHeight, originalWidth);
        return ScaleBoxes(xyxy, ratio, ratio, padW, padH, originalHeight, originalWidth);
    }

    /// <summary>The gain and centred padding a letterbox from original to input size uses.</summary>
    public static (double Ratio, double PadW, double PadH) LetterboxParameters(int inputHeight, int inputWidth, int originalHeight, int originalWidth)
    {
        double gain = Math.Min((double)inputHeight / originalHeight, (double)inputWidth / originalWidth);
        double padW = Math.Round((inputWidth - originalWidth * gain) / 2 - 0.1, MidpointRounding.ToEven);
        double padH = Math.Round((inputHeight - originalHeight * gain) / 2 - 0.1, MidpointRounding.ToEven);
        return (gain, padW, padH);
    }

    /// <summary>
    /// In-place array form of <see cref="ScaleBoxes(Tensor,double,double,double,double,int,int)"/> for
    /// row-major rows whose first four values are xyxy (<paramref name="rowWidth"/> 4 for boxes, 6 for
    /// detections): letterboxed input → original pixels, clipped to the original image.
    /// </summary>
    public static void ScaleBoxes(Span<float> rows, int rowWidth, double ratioW, double ratioH, double padW, double padH,
        int originalHeight, int originalWidth)
    {
        if (rowWidth < 4 || rows.Length % rowWidth != 0) throw new ArgumentException($"rows must be a multiple of {rowWidth} floats with xyxy first");
        if (ratioW <= 0 || ratioH <= 0) throw new ArgumentOutOfRangeException(nameof(ratioW), $"letterbox ratios must be positive (got {ratioW}, {ratioH})");
        for (int o = 0; o < rows.Length; o += rowWidth)
        {
            rows[o] = (float)Math.Clamp((rows[o] - padW) / ratioW, 0, originalWidth);
            rows[o + 1] = (float)Math.Clamp((rows[o + 1] - padH) / ratioH, 0, originalHeight);
            rows[o + 2] = (float)Math.Clamp((rows[o + 2] - padW) / ratioW, 0, originalWidth);
            rows[o + 3] = (float)Math.Clamp((rows[o + 3] - padH) / ratioH, 0, originalHeight);
        }
    }

    /// <summary>IoU of two xyxy boxes given as 4-float spans.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static float Iou(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        float iw = MathF.Min(a[2], b[2]) - MathF.Max(a[0], b[0]);
        float ih = MathF.Min(a[3], b[3]) - MathF.Max(a[1], b[1]);
        if (iw <= 0 || ih <= 0) return 0f;
        float inter = iw * ih;
        float union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter + (float)Eps;
        return inter / union;
    }

    /// <summary>
    /// Pairwise IoU of row-major xyxy boxes (<paramref name="boxes1"/> N·4 floats, <paramref name="boxes2"/> M·4)
    /// into <paramref name="result"/> (N·M, row-major [N,M]). Same formula and float32 arithmetic as <see cref="Iou(Tensor,Tensor,double)"/>.
    /// </summary>
    public static void Iou(ReadOnlySpan<float> boxes1, ReadOnlySpan<float> boxes2, Span<float> result)
    {
        if (boxes1.Length % 4 != 0 || boxes2.Length % 4 != 0) throw new ArgumentException("box spans must hold 4 floats per box");
        int n = boxes1.Length / 4, m = boxes2.Length / 4;
        if (result.Length < n * m) throw new ArgumentException($"result needs {n * m} floats, has {result.Length}");
        for (int i = 0; i < n; i++)
        {
            var a = boxes1.Slice(i * 4, 4);
            var row = result.Slice(i * m, m);
            for (int j = 0; j < m; j++) row[j] = Iou(a, boxes2.Slice(j * 4, 4));
        }
    }

    static Tensor AtLeastFloat32(Tensor t) =>
        t.dtype is ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Int32 or ScalarType.Int64 or ScalarType.Int16 or ScalarType.Byte
            ? t.to_type(ScalarType.Float32) : t;

    static void CheckBoxes(Tensor t, string name)
    {
        if (t.dim() != 2 || t.shape[1] != 4)
            throw new ArgumentException($"{name} must be [N,4] xyxy boxes, got [{string.Join(",", t.shape)}]", name);
    }

    static void CheckLast4(Tensor t, string name)
    {
        if (t.dim() < 1 || t.shape[^1] != 4)
            throw new ArgumentException($"{name} must have 4 box coordinates in its last dimension, got [{string.Join(",", t.shape)}]", name);
    }
}
