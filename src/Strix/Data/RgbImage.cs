namespace Strix.Data;

/// <summary>
/// An 8-bit RGB image stored row-major as height × width × 3 bytes (HWC), the layout every
/// augmentation in Strix works on before the batch is turned into a <c>[B,3,H,W]</c> tensor.
/// </summary>
public sealed class RgbImage
{
    /// <summary>Creates an image over <paramref name="pixels"/> (length must be width·height·3).</summary>
    public RgbImage(int width, int height, byte[] pixels)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"image size {width}x{height} is not positive");
        if (pixels.Length != width * height * 3) throw new ArgumentException($"expected {width * height * 3} bytes for {width}x{height} RGB, got {pixels.Length}", nameof(pixels));
        Width = width; Height = height; Pixels = pixels;
    }

    /// <summary>A new image filled with one colour (114 grey is YOLO's padding colour).</summary>
    public static RgbImage Filled(int width, int height, byte r, byte g, byte b)
    {
        var px = new byte[width * height * 3];
        for (int i = 0; i < px.Length; i += 3) { px[i] = r; px[i + 1] = g; px[i + 2] = b; }
        return new RgbImage(width, height, px);
    }

    public int Width { get; }
    public int Height { get; }
    /// <summary>HWC RGB bytes.</summary>
    public byte[] Pixels { get; }

    public RgbImage Clone() => new(Width, Height, (byte[])Pixels.Clone());
}
