using System.Globalization;
using Strix.Data;
using Strix.IO;
using Strix.Inference.Sources;

namespace Strix.Inference;

/// <summary>What a prediction run saves, with Ultralytics' argument names.</summary>
public sealed record SaveOptions
{
    /// <summary>Annotated images, and annotated videos for video sources.</summary>
    public bool Save { get; init; } = true;
    /// <summary>Each annotated video frame as its own JPEG too.</summary>
    public bool SaveFrames { get; init; }
    /// <summary>YOLO-format labels per image or frame.</summary>
    public bool SaveTxt { get; init; }
    /// <summary>Add the confidence to saved labels.</summary>
    public bool SaveConf { get; init; }
    /// <summary>Each detection's crop, in a folder per class.</summary>
    public bool SaveCrop { get; init; }

    public bool Any => Save || SaveFrames || SaveTxt || SaveCrop;
}

/// <summary>
/// Writes a prediction run's outputs into its folder, laid out as Ultralytics does: annotated images and
/// videos (<c>name.jpg</c>, <c>clip.mp4</c>), <c>labels/name.txt</c> or <c>labels/clip_FRAME.txt</c>,
/// <c>crops/CLASS/…jpg</c> and <c>clip_frames/clip_FRAME.jpg</c>. A video is written while its frames arrive and
/// appears under its final name when its source ends (see <see cref="VideoSink"/>). Images and labels are
/// written atomically.
/// </summary>
public sealed class ResultsWriter : IDisposable
{
    readonly string _dir;
    readonly SaveOptions _save;
    readonly Func<Results, RgbImage> _draw;
    readonly Dictionary<string, int> _cropCount = new();
    readonly HashSet<string> _videoNames = new();
    VideoSink? _video;
    string? _videoSource;

    /// <param name="runDir">The run folder (exists).</param>
    /// <param name="save">What to write.</param>
    /// <param name="draw">How a result is drawn (default: boxes and labels; tracking adds ids and trails).</param>
    public ResultsWriter(string runDir, SaveOptions save, Func<Results, RgbImage>? draw = null)
    {
        _dir = runDir; _save = save; _draw = draw ?? (r => r.Plot());
        if (save.SaveTxt) Directory.CreateDirectory(Path.Combine(_dir, "labels"));
    }

    /// <summary>Writes one image's or frame's outputs.</summary>
    public void Write(Results r)
    {
        bool isFrame = r.FrameIndex is not null;
        string stem = Stem(r.Path);
        string frameStem = isFrame ? $"{stem}_{r.FrameIndex!.Value.ToString(CultureInfo.InvariantCulture)}" : stem;
        RgbImage? drawn = _save.Save || _save.SaveFrames ? _draw(r) : null;
        if (isFrame)
        {
            if (_save.Save) VideoFor(r, stem).Write(drawn!);
            if (_save.SaveFrames)
            {
                var folder = Path.Combine(_dir, stem + "_frames");
                Directory.CreateDirectory(folder);
                ImageIO.Save(drawn!, Path.Combine(folder, frameStem + ".jpg"));
            }
        }
        else if (_save.Save)
            ImageIO.Save(drawn!, Path.Combine(_dir, r.Path is null ? frameStem + ".jpg" : Path.GetFileName(r.Path)));
        if (_save.SaveTxt) AtomicFile.WriteAllText(Path.Combine(_dir, "labels", frameStem + ".txt"), r.ToTxt(_save.SaveConf));
        if (_save.SaveCrop && r.OrigImage is not null)
            foreach (var d in r.Detections)
            {
                var folder = Path.Combine(_dir, "crops", Safe(d.ClassName));
                Directory.CreateDirectory(folder);
                int n = _cropCount[folder + frameStem] = _cropCount.GetValueOrDefault(folder + frameStem) + 1;
                ImageIO.Save(r.Crop(d), Path.Combine(folder, n == 1 ? frameStem + ".jpg" : $"{frameStem}{n}.jpg"));
            }
    }

    VideoSink VideoFor(Results r, string stem)
    {
        if (_video is not null && _videoSource == r.Path) return _video;
        FinishVideo();
        // Two sources with one stem (a/clip.mp4, b/clip.mp4, or two cameras) get clip.mp4, clip2.mp4.
        var name = stem;
        for (int k = 2; !_videoNames.Add(name); k++) name = $"{stem}{k}";
        _video = new VideoSink(Path.Combine(_dir, name + ".mp4"), r.FrameRate is > 0 ? r.FrameRate.Value : 30, r.OrigWidth, r.OrigHeight);
        _videoSource = r.Path;
        return _video;
    }

    void FinishVideo()
    {
        if (_video is null) return;
        _video.Complete();
        _video.Dispose();
        _video = null;
    }

    /// <summary>Finishes the video being written (its file appears under the final name).</summary>
    public void Complete() => FinishVideo();

    /// <summary>Abandons an unfinished video (its temporary file is removed) unless <see cref="Complete"/> was called.</summary>
    public void Dispose()
    {
        _video?.Dispose();
        _video = null;
    }

    // A file name for a source: the file's stem, a camera's index, a stream URL's last path segment.
    static string Stem(string? source)
    {
        if (source is null) return "image";
        if (FrameSources.IsStreamUrl(source))
        {
            var path = Uri.TryCreate(source, UriKind.Absolute, out var u) ? u.AbsolutePath.Trim('/') : "";
            var last = path.Split('/').LastOrDefault(p => p.Length > 0);
            return Safe(string.IsNullOrEmpty(last) ? "stream" : Path.GetFileNameWithoutExtension(last));
        }
        return Safe(Path.GetFileNameWithoutExtension(source) is { Length: > 0 } s ? s : source);
    }

    static string Safe(string name)
    {
        var bad = Path.GetInvalidFileNameChars();
        var s = new string(name.Select(c => bad.Contains(c) || c == ':' ? '_' : c).ToArray());
        return s.Length == 0 ? "_" : s;
    }
}
