using Strix.IO;
using System.Buffers.Binary;

namespace Strix.Data;

/// <summary>
/// Decodes dataset images resized to long side imgsz, optionally keeping them in RAM or in raw files
/// beside the images (<c>cache=ram|disk</c>), so later epochs skip JPEG decoding and resizing.
/// Filled lazily by whichever worker first needs an image; safe for concurrent use.
/// </summary>
internal sealed class ImageCache
{
    const uint DiskMagic = 0x42475253; // "SRGB"
    const int DiskVersion = 1;
    /// <summary>RAM caching must leave this fraction of the needed size free (Ultralytics' safety margin).</summary>
    const double SafetyMargin = 0.5;

    readonly int _imgsz;
    readonly RgbImage?[]? _ram;
    readonly bool _disk;
    readonly Action<string> _warn;
    int _diskWarned;

    /// <summary>Budget of the always-on recent-image cache (mosaic partners are mostly recent images).</summary>
    const long RecentBudgetBytes = 128L << 20;
    readonly RecentImages? _recent;

    /// <param name="mode">Where decoded images are kept across epochs (none, RAM or disk).</param>
    /// <param name="imgsz">Long side images are resized to before they are cached.</param>
    /// <param name="items">The dataset's images, in index order.</param>
    /// <param name="warn">Receives warnings (not enough memory for <c>cache=ram</c>, an unwritable disk cache).</param>
    /// <param name="availableMemoryBytes">Memory to budget against; null reads it from the system.</param>
    /// <param name="recent">Keep recently decoded images (worth it when mosaic/mixup re-use nearby images).</param>
    public ImageCache(ImageCacheMode mode, int imgsz, IReadOnlyList<ImageLabels> items, Action<string> warn, long? availableMemoryBytes = null, bool recent = true)
    {
        _imgsz = imgsz; _warn = warn;
        if (mode == ImageCacheMode.Ram)
        {
            long need = 0;
            foreach (var it in items)
            {
                var (w, h) = ResizedSize(it.Width, it.Height, imgsz);
                need += (long)w * h * 3 + 64;
            }
            long avail = availableMemoryBytes ?? AvailableMemoryBytes();
            if (need * (1 + SafetyMargin) > avail)
                warn($"cache=ram needs {need / 1e9:0.0} GB (+{SafetyMargin:P0} margin) but only {avail / 1e9:0.0} GB is available; not caching images (use cache=disk or cache=false)");
            else _ram = new RgbImage?[items.Count];
        }
        _disk = mode == ImageCacheMode.Disk;
        if (_ram is null && recent) _recent = new RecentImages((int)Math.Clamp(RecentBudgetBytes / (3L * imgsz * imgsz), 8, 160));
    }

    /// <summary>Ultralytics' load_image size: long side = imgsz, the other side rounded up, never above imgsz.</summary>
    public static (int Width, int Height) ResizedSize(int w0, int h0, int imgsz)
    {
        double r = (double)imgsz / Math.Max(w0, h0);
        if (r == 1) return (w0, h0);
        return (Math.Max(1, Math.Min((int)Math.Ceiling(w0 * r), imgsz)), Math.Max(1, Math.Min((int)Math.Ceiling(h0 * r), imgsz)));
    }

    /// <summary>The resized image; treat as read-only (it may be shared through the cache).</summary>
    public RgbImage Get(int index, ImageLabels item) =>
        _recent is null ? Load(index, item) : _recent.GetOrLoad(index, () => Load(index, item));

    RgbImage Load(int index, ImageLabels item)
    {
        if (_ram is not null && Volatile.Read(ref _ram[index]) is { } hit) return hit;
        RgbImage img;
        if (_disk)
        {
            var path = DiskPath(item.ImageFile, _imgsz);
            var cached = TryReadDisk(path, item.ImageFile);
            if (cached is not null) img = cached;
            else
            {
                img = Decode(item);
                if (Volatile.Read(ref _diskWarned) == 0)
                {
                    if (FolderAccess.IsWritable(Path.GetDirectoryName(path)!)) TryWriteDisk(path, item.ImageFile, img);
                    else if (Interlocked.Exchange(ref _diskWarned, 1) == 0)
                        _warn($"cache=disk: {Path.GetDirectoryName(path)} is read-only; its images are decoded every time");
                }
            }
        }
        else img = Decode(item);
        if (_ram is not null) Volatile.Write(ref _ram[index], img);
        return img;
    }

    RgbImage Decode(ImageLabels item)
    {
        var img = DecodeAtLeast(item.ImageFile, _imgsz, out int fullW, out int fullH);
        if (fullW != item.Width || fullH != item.Height)
            throw new InvalidDataException($"{item.ImageFile}: image is now {fullW}x{fullH} but was {item.Width}x{item.Height} when checked; the file changed during training");
        var (w, h) = ResizedSize(fullW, fullH, _imgsz);
        return w == img.Width && h == img.Height ? img : ImageOps.ResizeBilinear(img, w, h);
    }

    /// <summary>
    /// Decodes an image, EXIF orientation applied. A JPEG at least twice the target size is decoded at
    /// 1/2, 1/4 or 1/8 scale by the JPEG decoder itself (an area-averaging reduction, several times
    /// faster than decoding full size) — the largest reduction that keeps the long side ≥ <paramref name="minLongSide"/>.
    /// </summary>
    internal static RgbImage DecodeAtLeast(string path, int minLongSide, out int fullWidth, out int fullHeight)
    {
        var bytes = File.Exists(path) ? File.ReadAllBytes(path) : throw new FileNotFoundException($"{path}: image file not found", path);
        using var data = SkiaSharp.SKData.CreateCopy(bytes);
        using var codec = SkiaSharp.SKCodec.Create(data);
        if (codec is null || codec.EncodedFormat != SkiaSharp.SKEncodedImageFormat.Jpeg || Math.Max(codec.Info.Width, codec.Info.Height) < 2 * minLongSide)
        {
            RgbImage full;
            try { full = ImageIO.Decode(bytes); }
            catch (InvalidDataException e) { throw new InvalidDataException($"{path}: {e.Message}", e); }
            (fullWidth, fullHeight) = (full.Width, full.Height);
            return full;
        }
        bool swap = codec.EncodedOrigin is SkiaSharp.SKEncodedOrigin.LeftTop or SkiaSharp.SKEncodedOrigin.RightTop
            or SkiaSharp.SKEncodedOrigin.RightBottom or SkiaSharp.SKEncodedOrigin.LeftBottom;
        (fullWidth, fullHeight) = swap ? (codec.Info.Height, codec.Info.Width) : (codec.Info.Width, codec.Info.Height);
        int longSide = Math.Max(fullWidth, fullHeight);
        float scale = 1f;
        foreach (var k in new[] { 0.125f, 0.25f, 0.5f })
            if (longSide * k >= minLongSide) { scale = k; break; }
        var size = codec.GetScaledDimensions(scale);
        var info = new SkiaSharp.SKImageInfo(size.Width, size.Height, SkiaSharp.SKColorType.Rgba8888, SkiaSharp.SKAlphaType.Unpremul);
        using var bmp = new SkiaSharp.SKBitmap(info);
        var r = codec.GetPixels(info, bmp.GetPixels());
        if (r != SkiaSharp.SKCodecResult.Success)
            throw new InvalidDataException($"{path}: {(r == SkiaSharp.SKCodecResult.IncompleteInput ? "truncated image data" : $"decode failed ({r})")}");
        return ImageIO.ApplyOrientation(ImageIO.FromBitmap(bmp), codec.EncodedOrigin);
    }

    /// <summary>Raw-pixel cache file beside the image, per imgsz.</summary>
    public static string DiskPath(string imageFile, int imgsz) => Path.ChangeExtension(imageFile, $".strix{imgsz}.rgb");

    static (long Length, long Ticks) Stamp(string file)
    {
        var fi = new FileInfo(file);
        return (fi.Length, fi.LastWriteTimeUtc.Ticks);
    }

    static RgbImage? TryReadDisk(string path, string source)
    {
        try
        {
            if (!File.Exists(path)) return null;
            var bytes = File.ReadAllBytes(path);
            if (bytes.Length < 32) return null;
            var span = bytes.AsSpan();
            if (BinaryPrimitives.ReadUInt32LittleEndian(span) != DiskMagic || BinaryPrimitives.ReadInt32LittleEndian(span[4..]) != DiskVersion) return null;
            var (len, ticks) = Stamp(source);
            if (BinaryPrimitives.ReadInt64LittleEndian(span[8..]) != len || BinaryPrimitives.ReadInt64LittleEndian(span[16..]) != ticks) return null;
            int w = BinaryPrimitives.ReadInt32LittleEndian(span[24..]), h = BinaryPrimitives.ReadInt32LittleEndian(span[28..]);
            if (w <= 0 || h <= 0 || bytes.Length != 32 + (long)w * h * 3) return null;
            return new RgbImage(w, h, span[32..].ToArray());
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    void TryWriteDisk(string path, string source, RgbImage img)
    {
        try
        {
            var (len, ticks) = Stamp(source);
            var header = new byte[32];
            BinaryPrimitives.WriteUInt32LittleEndian(header, DiskMagic);
            BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(4), DiskVersion);
            BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(8), len);
            BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(16), ticks);
            BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(24), img.Width);
            BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(28), img.Height);
            AtomicFile.Write(path, s => { s.Write(header); s.Write(img.Pixels); });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (Interlocked.Exchange(ref _diskWarned, 1) == 0)
                _warn($"cache=disk: cannot write {path} ({e.Message}); images in read-only folders are decoded every time");
        }
    }

    /// <summary>Memory the process can still use: MemAvailable on Linux, the GC's budget elsewhere.</summary>
    internal static long AvailableMemoryBytes()
    {
        long gc = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        try
        {
            if (File.Exists("/proc/meminfo"))
                foreach (var line in File.ReadLines("/proc/meminfo"))
                    if (line.StartsWith("MemAvailable:"))
                    {
                        var kb = long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
                        return Math.Min(kb * 1024, gc);
                    }
        }
        catch (Exception e) when (e is IOException or FormatException) { }
        return gc;
    }
}

/// <summary>
/// The most recently used decoded images, by dataset index (oldest dropped first). Each image is
/// decoded once while resident even when several workers ask for it at the same moment; a failed
/// decode is not kept.
/// </summary>
internal sealed class RecentImages
{
    readonly int _capacity;
    readonly object _gate = new();
    readonly Dictionary<int, Lazy<RgbImage>> _map = new();
    readonly Queue<int> _fifo = new();

    public RecentImages(int capacity) => _capacity = Math.Max(1, capacity);

    public int Count { get { lock (_gate) return _map.Count; } }

    public RgbImage GetOrLoad(int key, Func<RgbImage> load)
    {
        Lazy<RgbImage>? lazy;
        lock (_gate)
        {
            if (!_map.TryGetValue(key, out lazy))
            {
                lazy = new Lazy<RgbImage>(load, LazyThreadSafetyMode.ExecutionAndPublication);
                _map[key] = lazy;
                _fifo.Enqueue(key);
                while (_map.Count > _capacity && _fifo.TryDequeue(out int old))
                    if (old != key) _map.Remove(old);
            }
        }
        try { return lazy.Value; }
        catch
        {
            lock (_gate) if (_map.TryGetValue(key, out var cur) && ReferenceEquals(cur, lazy)) _map.Remove(key);
            throw;
        }
    }
}
