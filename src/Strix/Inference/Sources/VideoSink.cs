using OpenCvSharp;
using Strix.Data;

namespace Strix.Inference.Sources;

/// <summary>
/// Writes frames to a video file (MPEG-4 Part 2 in .mp4, Motion-JPEG in .avi) at the source's frame rate and
/// size. The file appears only when <see cref="Complete"/> is called: frames go to a temporary file in the
/// same folder that is then renamed, so an interrupted run never leaves a half-written video under the final name.
/// </summary>
public sealed class VideoSink : IDisposable
{
    readonly VideoWriter _writer;
    readonly string _temp;
    bool _done;

    public VideoSink(string path, double fps, int width, int height)
    {
        OpenCv.EnsureAvailable();
        OutputPath = path;
        Width = width; Height = height;
        var ext = System.IO.Path.GetExtension(path).ToLowerInvariant();
        var fourcc = ext switch
        {
            ".mp4" or ".m4v" or ".mov" => FourCC.FromString("mp4v"),
            ".avi" => FourCC.FromString("MJPG"),
            _ => throw new ArgumentException($"video '{path}': write .mp4 or .avi"),
        };
        var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!;
        _temp = System.IO.Path.Combine(dir, $".{System.IO.Path.GetFileNameWithoutExtension(path)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp{ext}");
        _writer = new VideoWriter(_temp, fourcc, fps > 0 ? fps : 30, new Size(width, height));
        if (!_writer.IsOpened())
        {
            _writer.Dispose();
            TryDelete(_temp);
            throw new IOException($"video '{path}': cannot be written (folder not writable, or no encoder for {ext})");
        }
    }

    /// <summary>The final file name.</summary>
    public string OutputPath { get; }
    public int Width { get; }
    public int Height { get; }
    /// <summary>Frames written so far.</summary>
    public int Frames { get; private set; }

    /// <summary>Appends a frame; it must have the sink's size.</summary>
    public void Write(RgbImage frame)
    {
        if (frame.Width != Width || frame.Height != Height)
            throw new ArgumentException($"video '{OutputPath}': frame {frame.Width}x{frame.Height} differs from the video's {Width}x{Height}");
        using var bgr = OpenCv.ToBgr(frame);
        _writer.Write(bgr);
        Frames++;
    }

    /// <summary>Finishes the file and moves it to its final name.</summary>
    public void Complete()
    {
        if (_done) return;
        _writer.Release();
        _done = true;
        try { File.Move(_temp, OutputPath, overwrite: true); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(_temp);
            throw new IOException($"video '{OutputPath}': cannot be saved ({e.Message})", e);
        }
    }

    public void Dispose()
    {
        if (!_done) { _writer.Release(); TryDelete(_temp); _done = true; }
        _writer.Dispose();
    }

    static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
