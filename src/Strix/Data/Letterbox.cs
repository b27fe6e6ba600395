namespace Strix.Data;

/// <summary>
/// Resizes an image to fit a target size while keeping its aspect ratio, then pads the rest with
/// grey (114), as YOLO does for inference and validation. The returned ratio and padding map boxes
/// between the original image and the model input.
/// </summary>
public static class Letterbox
{
    /// <summary>The letterboxed image and how to map coordinates: input = original · ratio + pad.</summary>
    public sealed record Result(RgbImage Image, double RatioW, double RatioH, double PadW, double PadH, int ResizedWidth, int ResizedHeight);

    /// <param name="img">The original image.</param>
    /// <param name="newHeight">Target height.</param>
    /// <param name="newWidth">Target width.</param>
    /// <param name="auto">Pad only to the next multiple of <paramref name="stride"/> (minimum rectangle) instead of the full target.</param>
    /// <param name="scaleUp">Allow enlarging small images (off for validation-style "only shrink").</param>
    /// <param name="center">Split padding on both sides (true) or put it bottom/right.</param>
    /// <param name="stride">Stride the padded size must be a multiple of, when <paramref name="auto"/>.</param>
    /// <param name="pad">Padding grey level.</param>
    public static Result Apply(RgbImage img, int newHeight, int newWidth, bool auto = false, bool scaleUp = true,
        bool center = true, int stride = 32, byte pad = 114)
    {
        double r = Math.Min((double)newHeight / img.Height, (double)newWidth / img.Width);
        if (!scaleUp) r = Math.Min(r, 1.0);
        int rw = (int)Math.Round(img.Width * r), rh = (int)Math.Round(img.Height * r);
        rw = Math.Clamp(rw, 1, newWidth); rh = Math.Clamp(rh, 1, newHeight);
        double dw = newWidth - rw, dh = newHeight - rh;
        if (auto) { dw %= stride; dh %= stride; }
        int outW = rw + (int)dw, outH = rh + (int)dh;
        int left = center ? (int)Math.Round(dw / 2 - 0.1) : 0;
        int top = center ? (int)Math.Round(dh / 2 - 0.1) : 0;
        var resized = rw == img.Width && rh == img.Height ? img : ImageOps.ResizeBilinear(img, rw, rh);
        RgbImage canvas;
        if (outW == rw && outH == rh) canvas = resized == img ? img.Clone() : resized;
        else
        {
            canvas = RgbImage.Filled(outW, outH, pad, pad, pad);
            ImageOps.Paste(resized, canvas, left, top);
        }
        return new Result(canvas, (double)rw / img.Width, (double)rh / img.Height, left, top, rw, rh);
    }
}
