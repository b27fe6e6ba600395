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
        long nm = prototypes.shape[0], mh = prototypes.shape[1], mw = prototypes.shape[2];
        long n = coefficients.shape[0];
        if (n == 0) return zeros(new long[] { 0, height, width }, ScalarType.Bool, prototypes.device).MoveToOuterDisposeScope();
        var probs = coefficients.to(ScalarType.Float32).matmul(prototypes.to(ScalarType.Float32).view(nm, -1)).sigmoid().view(n, mh, mw);
        var scale = tensor(new float[] { (float)mw / width, (float)mh / height, (float)mw / width, (float)mh / height }, device: prototypes.device);
        var cropped = Crop(probs, boxes.to(ScalarType.Float32).to(prototypes.device) * scale);
        var up = F.interpolate(cropped.unsqueeze(0), new long[] { height, width }, mode: InterpolationMode.Bilinear, align_corners: false).squeeze(0);
        return up.gt(Scalars.Half).MoveToOuterDisposeScope();
    }

    /// <summary>Pairwise IoU of binary masks: <paramref name="a"/> [N, H, W] × <paramref name="b"/> [M, H, W] → [N, M] (0 where both are empty).</summary>
    public static Tensor Iou(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        var fa = a.reshape(a.shape[0], -1).to(ScalarType.Float32);
        var fb = b.reshape(b.shape[0], -1).to(ScalarType.Float32).to(fa.device);
        var inter = fa.matmul(fb.t());
        var union = ((Held)fa.sum(1).unsqueeze(1) + (Held)fb.sum(1).unsqueeze(0)).T - inter;
        return (inter / union.clamp_min(Scalars.One)).MoveToOuterDisposeScope();
    }
}
