using SkiaSharp;
using Strix.IO;

namespace Strix.Data;

/// <summary>
/// Image decoding and encoding through SkiaSharp. Decoding applies the EXIF orientation so that
/// what the model sees matches what an image viewer shows (and what labels were drawn on).
/// </summary>
public static class ImageIO
{
    /// <summary>File extensions treated as images, as Ultralytics does for detection datasets.</summary>
    public static readonly string[] ImageExtensions = { ".jpg", ".jpeg", ".png", ".bmp", ".webp" };

    public static bool IsImageFile(string path) =>
        ImageExtensions.Contains(Path.GetExtension(path).ToLowerInvariant());

    /// <summary>Image formats Ultralytics lists that this build cannot decode: named when skipped, never ignored silently.</summary>
    public static readonly string[] UndecodableImageExtensions = { ".tif", ".tiff", ".dng", ".mpo", ".pfm", ".heic" };

    public static bool IsUndecodableImageFile(string path) =>
        UndecodableImageExtensions.Contains(Path.GetExtension(path).ToLowerInvariant());

    /// <summary>Decodes an image file into RGB, EXIF orientation applied.</summary>
    /// <exception cref="InvalidDataException">The file is missing, empty, not an image, or truncated; the message names it.</exception>
    public static RgbImage Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: image file not found", path);
        byte[] bytes = File.ReadAllBytes(path);
        try { return Decode(bytes); }
        catch (InvalidDataException e) { throw new InvalidDataException($"{path}: {e.Message}", e); }
    }

    /// <summary>Decodes encoded image bytes (JPEG, PNG, BMP, WebP) into RGB, EXIF orientation applied.</summary>
    public static RgbImage Decode(byte[] bytes)
    {
        if (bytes.Length == 0) throw new InvalidDataException("empty file");
        using var data = SKData.CreateCopy(bytes);
        using var codec = SKCodec.Create(data) ?? throw new InvalidDataException("not a decodable image");
        CheckSize(codec.Info.Width, codec.Info.Height);
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var bmp = new SKBitmap(info);
        var result = codec.GetPixels(info, bmp.GetPixels());
        if (result != SKCodecResult.Success)
            throw new InvalidDataException(result == SKCodecResult.IncompleteInput ? "truncated image data" : $"decode failed ({result})");
        var img = FromRgba(bmp);
        return ApplyOrientation(img, codec.EncodedOrigin);
    }

    /// <summary>
    /// The largest image decoded: 16384 pixels a side and 178,956,970 pixels in all (Pillow's decompression-bomb
    /// limit). A small file can claim a huge canvas; past these the image is refused before any pixel buffer exists.
    /// </summary>
    public const int MaxSide = 16384;
    public const long MaxPixels = 178_956_970;

    internal static void CheckSize(int w, int h)
    {
        if (w <= 0 || h <= 0) throw new InvalidDataException($"image size {w}x{h} is not positive");
        if (w > MaxSide || h > MaxSide || (long)w * h > MaxPixels)
            throw new InvalidDataException($"image size {w}x{h} exceeds the limit ({MaxSide} pixels a side, {MaxPixels:N0} in all): a decompression bomb or a scan too large to train on");
    }

    /// <summary>Reads only the header: size after EXIF orientation, without decoding pixels.</summary>
    public static (int Width, int Height) ReadSize(string path)
    {
        using var codec = SKCodec.Create(path) ?? throw new InvalidDataException($"{path}: not a decodable image");
        var (w, h) = (codec.Info.Width, codec.Info.Height);
        try { CheckSize(w, h); }
        catch (InvalidDataException e) { throw new InvalidDataException($"{path}: {e.Message}", e); }
        return SwapsAxes(codec.EncodedOrigin) ? (h, w) : (w, h);
    }

    /// <summary>Converts any SkiaSharp bitmap into RGB bytes.</summary>
    public static RgbImage FromBitmap(SKBitmap bitmap)
    {
        if (bitmap.ColorType == SKColorType.Rgba8888 && bitmap.AlphaType != SKAlphaType.Premul) return FromRgba(bitmap);
        var info = new SKImageInfo(bitmap.Width, bitmap.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var converted = new SKBitmap(info);
        if (!bitmap.CopyTo(converted, SKColorType.Rgba8888))
        {
            using var canvas = new SKCanvas(converted);
            canvas.DrawBitmap(bitmap, 0, 0);
        }
        return FromRgba(converted);
    }

    /// <summary>Wraps RGB bytes into a new SkiaSharp bitmap (for drawing and encoding).</summary>
    public static unsafe SKBitmap ToBitmap(RgbImage image)
    {
        var bmp = new SKBitmap(new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        byte* dst = (byte*)bmp.GetPixels();
        int rowBytes = bmp.RowBytes;
        fixed (byte* src = image.Pixels)
        {
            for (int y = 0; y < image.Height; y++)
            {
                byte* s = src + (long)y * image.Width * 3;
                byte* d = dst + (long)y * rowBytes;
                for (int x = 0; x < image.Width; x++, s += 3, d += 4)
                {
                    d[0] = s[0]; d[1] = s[1]; d[2] = s[2]; d[3] = 255;
                }
            }
        }
        return bmp;
    }

    /// <summary>Encodes to JPEG or PNG by the path's extension and writes atomically.</summary>
    public static void Save(SKBitmap bitmap, string path, int quality = 95)
    {
        var ext = Path.GetExtension(path).ToLowerInvariant();
        var format = ext switch
        {
            ".png" => SKEncodedImageFormat.Png,
            ".webp" => SKEncodedImageFormat.Webp,
            _ => SKEncodedImageFormat.Jpeg,
        };
        using var image = SKImage.FromBitmap(bitmap);
        using var encoded = image.Encode(format, quality) ?? throw new InvalidOperationException($"{path}: encoding failed");
        AtomicFile.WriteAllBytes(path, encoded.ToArray());
    }

    /// <summary>Encodes an RGB image to a file (JPEG unless the extension says PNG/WebP).</summary>
    public static void Save(RgbImage image, string path, int quality = 95)
    {
        using var bmp = ToBitmap(image);
        Save(bmp, path, quality);
    }

    static unsafe RgbImage FromRgba(SKBitmap bmp)
    {
        int w = bmp.Width, h = bmp.Height, rowBytes = bmp.RowBytes;
        var px = new byte[w * h * 3];
        byte* src = (byte*)bmp.GetPixels();
        fixed (byte* dst = px)
        {
            for (int y = 0; y < h; y++)
            {
                byte* s = src + (long)y * rowBytes;
                byte* d = dst + (long)y * w * 3;
                for (int x = 0; x < w; x++, s += 4, d += 3)
                {
                    d[0] = s[0]; d[1] = s[1]; d[2] = s[2];
                }
            }
        }
        return new RgbImage(w, h, px);
    }

    static bool SwapsAxes(SKEncodedOrigin o) =>
        o is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;

    /// <summary>Rotates/flips decoded pixels so that the EXIF origin becomes top-left.</summary>
    internal static RgbImage ApplyOrientation(RgbImage img, SKEncodedOrigin origin)
    {
        if (origin == SKEncodedOrigin.TopLeft) return img;
        int w = img.Width, h = img.Height;
        bool swap = SwapsAxes(origin);
        int ow = swap ? h : w, oh = swap ? w : h;
        var dst = new byte[img.Pixels.Length];
        var src = img.Pixels;
        for (int y = 0; y < oh; y++)
        {
            for (int x = 0; x < ow; x++)
            {
                // (sx, sy): where output pixel (x, y) comes from in the stored image.
                (int sx, int sy) = origin switch
                {
                    SKEncodedOrigin.TopRight => (w - 1 - x, y),            // mirrored horizontally
                    SKEncodedOrigin.BottomRight => (w - 1 - x, h - 1 - y), // rotated 180
                    SKEncodedOrigin.BottomLeft => (x, h - 1 - y),          // mirrored vertically
                    SKEncodedOrigin.LeftTop => (y, x),                     // transposed
                    SKEncodedOrigin.RightTop => (y, h - 1 - x),            // rotate 90 clockwise to view
                    SKEncodedOrigin.RightBottom => (w - 1 - y, h - 1 - x), // transverse
                    SKEncodedOrigin.LeftBottom => (w - 1 - y, x),          // rotate 270 clockwise to view
                    _ => (x, y),
                };
                int si = (sy * w + sx) * 3, di = (y * ow + x) * 3;
                dst[di] = src[si]; dst[di + 1] = src[si + 1]; dst[di + 2] = src[si + 2];
            }
        }
        return new RgbImage(ow, oh, dst);
    }
}
