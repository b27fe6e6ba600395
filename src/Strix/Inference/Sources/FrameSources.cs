using System.Globalization;
using Strix.Data;

namespace Strix.Inference.Sources;

/// <summary>How sources are opened: Ultralytics' <c>vid_stride</c> and the stream timeout.</summary>
public sealed record SourceOptions
{
    /// <summary>Keep every n-th video frame.</summary>
    public int VidStride { get; init; } = 1;
    /// <summary>How long opening (and each read of) a network stream may take.</summary>
    public TimeSpan StreamTimeout { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>Where non-fatal problems are reported (a truncated video, a stream that ended).</summary>
    public Action<string>? Warn { get; init; }
}

/// <summary>
/// Turns a <c>source=</c> argument into frame sources, as Ultralytics reads it: an image or video file, a folder or
/// glob mixing both, a <c>.txt</c> file listing sources one per line, a camera index (<c>0</c>), or a URL
/// (<c>rtsp://</c>, <c>rtmp://</c>, <c>http(s)://</c>). Sources open lazily, one at a time.
/// </summary>
public static class FrameSources
{
    /// <summary>Container extensions read as videos.</summary>
    public static readonly string[] VideoExtensions = { ".mp4", ".avi", ".mkv", ".mov", ".m4v", ".mpeg", ".mpg", ".wmv", ".webm", ".ts", ".asf", ".gif" };

    static readonly string[] StreamSchemes = { "rtsp://", "rtmp://", "http://", "https://", "tcp://", "udp://" };

    public static bool IsVideoFile(string path) =>
        VideoExtensions.Contains(Path.GetExtension(path).ToLowerInvariant());

    public static bool IsStreamUrl(string source) =>
        StreamSchemes.Any(s => source.StartsWith(s, StringComparison.OrdinalIgnoreCase));

    public static bool IsCameraIndex(string source, out int index) =>
        int.TryParse(source, NumberStyles.None, CultureInfo.InvariantCulture, out index) && !File.Exists(source);

    /// <summary>
    /// Lists what <paramref name="source"/> names, without opening anything. Files that are neither images
    /// nor videos in a folder are left out; named explicitly (a file, a .txt line) they are an error.
    /// </summary>
    public static IReadOnlyList<string> Expand(string source)
    {
        source = source.Trim();
        if (IsStreamUrl(source) || IsCameraIndex(source, out _)) return new[] { source };
        if (File.Exists(source) && Path.GetExtension(source).Equals(".txt", StringComparison.OrdinalIgnoreCase))
        {
            var list = new List<string>();
            var lines = File.ReadAllLines(source);
            for (int i = 0; i < lines.Length; i++)
            {
                var line = lines[i].Trim();
                if (line.Length == 0 || line.StartsWith('#')) continue;
                if (!IsStreamUrl(line) && !IsCameraIndex(line, out _) && !File.Exists(line) && !Directory.Exists(line))
                    throw new FileNotFoundException($"{source}:{i + 1}: source '{line}' not found", line);
                list.AddRange(Expand(line));
            }
            return list;
        }
        if (File.Exists(source))
        {
            if (!ImageIO.IsImageFile(source) && !IsVideoFile(source))
                throw new InvalidDataException($"source '{source}': not an image ({string.Join(", ", ImageIO.ImageExtensions)}) or a video ({string.Join(", ", VideoExtensions)})");
            return new[] { source };
        }
        if (Directory.Exists(source))
            return Directory.EnumerateFiles(source).Where(p => ImageIO.IsImageFile(p) || IsVideoFile(p)).OrderBy(p => p, StringComparer.Ordinal).ToList();
        if (source.IndexOfAny(new[] { '*', '?' }) >= 0)
            return ImageSources.Expand(source).Where(p => ImageIO.IsImageFile(p) || IsVideoFile(p)).ToList();
        throw new FileNotFoundException($"source '{source}' not found (expected an image or video file, a folder, a glob pattern, a .txt list, a camera index or a stream URL)", source);
    }

    /// <summary>Opens one entry of <see cref="Expand"/>.</summary>
    public static IFrameSource Open(string entry, SourceOptions? options = null)
    {
        options ??= new SourceOptions();
        // Streams: the system's FFmpeg when installed (OpenCV's Linux runtime has no network protocols); else OpenCV,
        // whose runtimes for other systems may read them.
        if (IsStreamUrl(entry))
        {
            if (FfmpegStreamSource.IsAvailable) return FfmpegStreamSource.Open(entry, options.StreamTimeout, options.VidStride, options.Warn);
            try { return VideoCaptureSource.OpenStream(entry, options.StreamTimeout, options.VidStride, options.Warn); }
            catch (IOException e) { throw new IOException($"{e.Message}; {FfmpegStreamSource.InstallHint}", e); }
        }
        if (IsCameraIndex(entry, out int camera)) return VideoCaptureSource.OpenCamera(camera, options.VidStride, options.Warn);
        if (IsVideoFile(entry)) return VideoCaptureSource.OpenFile(entry, options.VidStride, options.Warn);
        return new ImageFileSource(entry);
    }
}
