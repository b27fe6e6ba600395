using Strix.Runtime;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Strix.Eval;

/// <summary>
/// Instance-mask operations shared by the segmentation loss, validator and predictor: cropping masks to their boxes,
/// assembling a detection's mask from its coefficients and the prototypes, and pairwise mask IoU.
/// </summary>
public static class MaskOps
{
    /// <summary>
    /// <paramref name="masks"/> [N, H, W] with everything outside each row's box (xyxy in mask pixels
    /// <paramref name="boxes"/> [N, 4]) set to zero: pixel columns x1 ≤ x &lt; x2 and rows y1 ≤ y &lt; y2 are kept.
    /// </summary>
    public static Tensor Crop(Tensor masks, Tensor boxes)
    {
        using var scope = NewDisposeScope();
        long h = masks.shape[1], w = masks.shape[2];
        var xs = HeldScalarMath.Arange(w, boxes.dtype, masks.device).view(1, 1, w);
        var ys = HeldScalarMath.Arange(h, boxes.dtype, masks.device).view(1, h, 1);
        var b = boxes.to(masks.device);
        var x1 = b[.., 0].view(-1, 1, 1); var y1 = b[.., 1].view(-1, 1, 1);
        var x2 = b[.., 2].view(-1, 1, 1); var y2 = b[.., 3].view(-1, 1, 1);
        var inside = xs.ge(x1).logical_and(xs.lt(x2)).logical_and(ys.ge(y1)).logical_and(ys.lt(y2));
        return (masks.dtype == ScalarType.Bool ? masks.logical_and(inside) : masks * inside.to(masks.dtype)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Binary masks of N detections at the model input's size: sigmoid(coefficients · prototypes) per detection, cropped to
    /// its box (given in input pixels, [N, 4] xyxy) at the prototypes' resolution, upsampled bilinearly to
    /// <paramref name="height"/>×<paramref name="width"/> and thresholded at ½ (Ultralytics' process_mask).
    /// </summary>
    /// <param name="prototypes">[nm, h, w] of one image.</param>
    /// <param name="coefficients">[N, nm].</param>
    /// <param name="boxes">[N, 4] xyxy in input pixels.</param>
    /// <param name="height">Input height in pixels.</param>
    /// <param name="width">Input width in pixels.</param>
    public static Tensor Process(Tensor prototypes, Tensor coefficients, Tensor boxes, int height, int width)
    {
        using var scope = NewDisposeScope();
        if (coefficients.shape[0] == 0) return zeros(new long[] { 0, height, width }, ScalarType.Bool, prototypes.device).MoveToOuterDisposeScope();
        var cropped = CroppedProbabilities(prototypes, coefficients, boxes, height, width);
        var up = F.interpolate(cropped.unsqueeze(0), new long[] { height, width }, mode: InterpolationMode.Bilinear, align_corners: false).squeeze(0);
        return up.gt(Scalars.Half).MoveToOuterDisposeScope();
    }

    /// <summary>Rows handled at once by the full-resolution steps, which bounds their memory (32 masks of 640² floats: 52 MB).</summary>
    const int Chunk = 32;

    /// <summary>
    /// Masks at any resolution over the model input (<paramref name="masks"/> [N, h, w], probabilities or 0/1, e.g. the
    /// cropped prototype masks at ¼ or a batch's target masks) → binary masks on the original image [N, H₀, W₀]: upsampled
    /// bilinearly to the input size, the letterbox padding cut away, resized bilinearly to the original size and
    /// thresholded at ½ (Ultralytics' process_mask followed by scale_masks).
    /// </summary>
    /// <param name="masks">[N, h, w] over the whole model input.</param>
    /// <param name="inputHeight">Model input height in pixels.</param>
    /// <param name="inputWidth">Model input width in pixels.</param>
    /// <param name="ratioPad">The letterbox mapping input = original·ratio + pad.</param>
    /// <param name="original">The original image's size.</param>
    public static Tensor ToOriginal(Tensor masks, int inputHeight, int inputWidth,
        (double RatioW, double RatioH, double PadW, double PadH) ratioPad, (int Height, int Width) original)
    {
        long n = masks.shape[0];
        if (n == 0) return zeros(new long[] { 0, original.Height, original.Width }, ScalarType.Bool, masks.device);
        var (rw, rh, pw, ph) = ratioPad;
        int top = Math.Clamp((int)Math.Round(ph - 0.1), 0, inputHeight - 1), left = Math.Clamp((int)Math.Round(pw - 0.1), 0, inputWidth - 1);
        int bottom = Math.Clamp((int)Math.Round(ph + original.Height * rh + 0.1), top + 1, inputHeight);
        int right = Math.Clamp((int)Math.Round(pw + original.Width * rw + 0.1), left + 1, inputWidth);
        var parts = new List<Tensor>();
        try
        {
            for (long s = 0; s < n; s += Chunk)
            {
                using var scope = NewDisposeScope();
                var m = masks.narrow(0, s, Math.Min(Chunk, n - s)).to(ScalarType.Float32).unsqueeze(0);
                if (m.shape[2] != inputHeight || m.shape[3] != inputWidth)
                    m = F.interpolate(m, new long[] { inputHeight, inputWidth }, mode: InterpolationMode.Bilinear, align_corners: false);
                m = m[.., .., top..bottom, left..right];
                if (m.shape[2] != original.Height || m.shape[3] != original.Width)
                    m = F.interpolate(m, new long[] { original.Height, original.Width }, mode: InterpolationMode.Bilinear, align_corners: false);
                parts.Add(m.squeeze(0).gt(Scalars.Half).MoveToOuterDisposeScope());
            }
            return parts.Count == 1 ? parts[0].alias() : cat(parts, 0);
        }
        finally { foreach (var t in parts) t.Dispose(); }
    }

    /// <summary>
    /// Sigmoid(coefficients · prototypes) per detection, zero outside its box, at the prototypes' resolution: [N, h, w]
    /// probabilities (the first half of <see cref="Process"/>, for <see cref="ToOriginal"/>).
    /// </summary>
    /// <param name="prototypes">[nm, h, w] of one image.</param>
    /// <param name="coefficients">[N, nm].</param>
    /// <param name="boxes">[N, 4] xyxy in input pixels.</param>
    /// <param name="inputHeight">Input height in pixels.</param>
    /// <param name="inputWidth">Input width in pixels.</param>
    public static Tensor CroppedProbabilities(Tensor prototypes, Tensor coefficients, Tensor boxes, int inputHeight, int inputWidth)
    {
        using var scope = NewDisposeScope();
        long nm = prototypes.shape[0], mh = prototypes.shape[1], mw = prototypes.shape[2];
        long n = coefficients.shape[0];
        if (n == 0) return zeros(new long[] { 0, mh, mw }, device: prototypes.device).MoveToOuterDisposeScope();
        var probs = coefficients.to(ScalarType.Float32).matmul(prototypes.to(ScalarType.Float32).view(nm, -1)).sigmoid().view(n, mh, mw);
        var scale = tensor(new float[] { (float)mw / inputWidth, (float)mh / inputHeight, (float)mw / inputWidth, (float)mh / inputHeight }, device: prototypes.device);
        return Crop(probs, boxes.to(ScalarType.Float32).to(prototypes.device) * scale).MoveToOuterDisposeScope();
    }

    /// <summary>Pairwise IoU of binary masks: <paramref name="a"/> [N, H, W] × <paramref name="b"/> [M, H, W] → [N, M] (0 where both are empty).</summary>
    public static Tensor Iou(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        long n = a.shape[0];
        var fb = b.reshape(b.shape[0], -1).to(ScalarType.Float32).to(a.device);
        var areaB = fb.sum(1).unsqueeze(0);
        var rows = new List<Tensor>();
        for (long s = 0; s < Math.Max(n, 1); s += Chunk)
        {
            var fa = a.narrow(0, s, Math.Min(Chunk, n - s)).reshape(-1, fb.shape[1]).to(ScalarType.Float32);
            var inter = fa.matmul(fb.t());
            var union = ((Held)fa.sum(1).unsqueeze(1) + (Held)areaB).T - inter;
            rows.Add(inter / union.clamp_min(Scalars.One));
        }
        return cat(rows, 0).MoveToOuterDisposeScope();
    }
}
