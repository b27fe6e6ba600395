using System.Globalization;
using OpenCvSharp;

namespace Strix.Inference.Sources;

/// <summary>
/// A video file, a camera or a network stream (RTSP, RTMP, HTTP), decoded by OpenCV's FFmpeg backend.
/// Opening a stream is bounded by a timeout; a file that ends before the frame count its container declares
/// is reported (after the frames that could be read), never retried forever.
/// </summary>
public sealed class VideoCaptureSource : IFrameSource
{
    // OpenCV's CAP_PROP_OPEN_TIMEOUT_MSEC and CAP_PROP_READ_TIMEOUT_MSEC (not named by OpenCvSharp 4.13).
    const int OpenTimeoutProp = 53, ReadTimeoutProp = 54;

    readonly VideoCapture _cap;
    readonly int _stride;
    readonly Action<string> _warn;
    bool _read;

    VideoCaptureSource(VideoCapture cap, string name, bool live, int stride, Action<string>? warn)
    {
        _cap = cap; Name = name; IsLive = live; _stride = Math.Max(1, stride);
        _warn = warn ?? (m => Console.Error.WriteLine($"WARNING ⚠️ {m}"));
        double fps = cap.Fps;
        Fps = double.IsFinite(fps) && fps > 0 && fps < 1000 ? fps : 30;
        int count = (int)Math.Round(cap.Get(VideoCaptureProperties.FrameCount));
        FrameCount = !live && count > 0 ? count : null;
        Width = cap.FrameWidth; Height = cap.FrameHeight;
    }

    public string Name { get; }
    public bool IsLive { get; }
    public bool IsVideo => true;
    public double Fps { get; }
    public int? FrameCount { get; }
    public int Width { get; }
    public int Height { get; }

    /// <summary>
    /// Opens a video file, keeping every <paramref name="vidStride"/>-th frame (Ultralytics' <c>vid_stride</c>).
    /// A file OpenCV cannot open (missing, not a video, no index) raises an error naming it.
    /// </summary>
    public static VideoCaptureSource OpenFile(string path, int vidStride = 1, Action<string>? warn = null)
    {
        OpenCv.EnsureAvailable();
        if (!File.Exists(path)) throw new FileNotFoundException($"video '{path}' not found", path);
        var cap = new VideoCapture(path, VideoCaptureAPIs.FFMPEG);
        if (!cap.IsOpened())
        {
            cap.Dispose();
            throw new InvalidDataException($"video '{path}': cannot be opened (not a video, or truncated before its index)");
        }
        return new VideoCaptureSource(cap, path, live: false, vidStride, warn);
    }

    /// <summary>Opens camera number <paramref name="index"/> (<c>source=0</c>).</summary>
    public static VideoCaptureSource OpenCamera(int index, int vidStride = 1, Action<string>? warn = null)
    {
        OpenCv.EnsureAvailable();
        var cap = new VideoCapture(index);
        if (!cap.IsOpened())
        {
            cap.Dispose();
            throw new IOException($"source={index}: camera {index} cannot be opened (no such device, or it is busy)");
        }
        return new VideoCaptureSource(cap, index.ToString(CultureInfo.InvariantCulture), live: true, vidStride, warn);
    }

    /// <summary>
    /// Opens a network stream. Opening and each read wait at most <paramref name="timeout"/>: FFmpeg is given
    /// the limit, and the open itself runs on a worker we stop waiting for when it overruns.
    /// </summary>
    public static VideoCaptureSource OpenStream(string url, TimeSpan timeout, int vidStride = 1, Action<string>? warn = null)
    {
        OpenCv.EnsureAvailable();
        int ms = (int)Math.Clamp(timeout.TotalMilliseconds, 1, int.MaxValue);
        var open = Task.Run(() => new VideoCapture(url, VideoCaptureAPIs.FFMPEG, new[] { OpenTimeoutProp, ms, ReadTimeoutProp, ms }));
        if (!open.Wait(timeout + TimeSpan.FromSeconds(1)))
        {
            _ = open.ContinueWith(t => t.Result.Dispose(), TaskContinuationOptions.OnlyOnRanToCompletion);
            throw new IOException($"source={Redact(url)}: no answer within {timeout.TotalSeconds:0.#} s (unreachable host or stream)");
        }
        var cap = open.Result;
        if (!cap.IsOpened())
        {
            cap.Dispose();
            throw new IOException($"source={Redact(url)}: the stream cannot be opened (unreachable, refused, or not a video stream)");
        }
        return new VideoCaptureSource(cap, url, live: true, vidStride, warn);
    }

    // user:password@ in a URL stays out of messages (anywhere in the text: FFmpeg quotes URLs in its errors).
    internal static string Redact(string text) =>
        System.Text.RegularExpressions.Regex.Replace(text, @"([A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]+@", "$1***@");

    public IEnumerable<SourceFrame> ReadFrames(CancellationToken cancel = default)
    {
        if (_read) throw new InvalidOperationException($"{Name}: frames can be read once");
        _read = true;
        using var mat = new Mat();
        int index = -1;
        while (!cancel.IsCancellationRequested)
        {
            // After each kept frame, skip vid_stride − 1 frames without decoding them (so frames 0, n, 2n, … are kept).
            bool ok = true;
            if (index >= 0)
                for (int s = 0; s < _stride - 1 && ok; s++) { ok = _cap.Grab(); if (ok) index++; }
            if (!ok || !_cap.Read(mat) || mat.Empty()) break;
            index++;
            // FFmpeg reports the position after reading frame i as frame i's presentation time.
            double ms = _cap.Get(VideoCaptureProperties.PosMsec);
            var ts = double.IsFinite(ms) && (ms > 0 || index == 0) ? TimeSpan.FromMilliseconds(ms) : TimeSpan.FromSeconds(index / Fps);
            yield return new SourceFrame(Name, index, ts, OpenCv.ToRgb(mat), IsVideo: true, Fps / _stride, FrameCount);
        }
        if (!cancel.IsCancellationRequested && FrameCount is int declared && index + 1 < declared)
            _warn($"video '{Name}': read {index + 1} of the {declared} frames its container declares (the file is truncated or corrupt); went on with those");
        else if (!cancel.IsCancellationRequested && IsLive)
            _warn($"source={Redact(Name)}: the stream ended or stopped answering after {index + 1} frames");
    }

    public void Dispose() => _cap.Dispose();
}
