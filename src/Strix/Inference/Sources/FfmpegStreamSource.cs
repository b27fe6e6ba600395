using System.Diagnostics;
using System.Globalization;
using Strix.Data;

namespace Strix.Inference.Sources;

/// <summary>
/// A network stream (RTSP, RTMP, HTTP, HTTPS, TCP, UDP) decoded by the system's FFmpeg: <c>ffprobe</c> reads the
/// stream's size and rate, then <c>ffmpeg</c> writes raw RGB frames to a pipe. OpenCV's Linux runtime carries an
/// FFmpeg without network protocols, so streams go through the FFmpeg a user installs with one command
/// (<c>apt-get install ffmpeg</c>). Probing and every frame wait at most the timeout; a stream that stops
/// answering ends with a warning, never a hang.
/// </summary>
public sealed class FfmpegStreamSource : IFrameSource
{
    readonly TimeSpan _timeout;
    readonly int _stride;
    readonly Action<string> _warn;
    Process? _ffmpeg;
    bool _read;

    FfmpegStreamSource(string url, int width, int height, double fps, TimeSpan timeout, int stride, Action<string>? warn)
    {
        Name = url; Width = width; Height = height; Fps = fps; _timeout = timeout; _stride = Math.Max(1, stride);
        _warn = warn ?? (m => Console.Error.WriteLine($"WARNING ⚠️ {m}"));
    }

    public string Name { get; }
    public bool IsLive => true;
    public bool IsVideo => true;
    public double Fps { get; }
    public int? FrameCount => null;
    public int Width { get; }
    public int Height { get; }

    /// <summary>True when <c>ffmpeg</c> and <c>ffprobe</c> are on the PATH.</summary>
    public static bool IsAvailable => OnPath("ffmpeg") && OnPath("ffprobe");

    /// <summary>What to install when FFmpeg is missing.</summary>
    public const string InstallHint = "stream sources need FFmpeg's ffmpeg and ffprobe on the PATH (Debian/Ubuntu: sudo apt-get install ffmpeg)";

    static bool OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Any(d => File.Exists(Path.Combine(d, tool)) || File.Exists(Path.Combine(d, tool + ".exe")));

    /// <summary>Probes <paramref name="url"/> (within <paramref name="timeout"/>) and returns a source ready to read.</summary>
    public static FfmpegStreamSource Open(string url, TimeSpan timeout, int vidStride = 1, Action<string>? warn = null)
    {
        if (!IsAvailable) throw new NotSupportedException($"source={VideoCaptureSource.Redact(url)}: {InstallHint}");
        var psi = Tool("ffprobe", InputOptions(url, timeout).Concat(new[]
        {
            "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height,avg_frame_rate,r_frame_rate",
            "-of", "csv=p=0", url,
        }));
        using var probe = Process.Start(psi) ?? throw new IOException("cannot start ffprobe");
        var stdout = probe.StandardOutput.ReadToEndAsync();
        var stderr = probe.StandardError.ReadToEndAsync();
        if (!probe.WaitForExit(timeout + TimeSpan.FromSeconds(2)))
        {
            Kill(probe);
            throw new IOException($"source={VideoCaptureSource.Redact(url)}: no answer within {timeout.TotalSeconds:0.#} s (unreachable host or stream)");
        }
        var line = stdout.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
        var parts = line?.Split(',') ?? Array.Empty<string>();
        if (probe.ExitCode != 0 || parts.Length < 3 || !int.TryParse(parts[0], out int w) || !int.TryParse(parts[1], out int h) || w <= 0 || h <= 0)
        {
            var why = stderr.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
            throw new IOException($"source={VideoCaptureSource.Redact(url)}: the stream cannot be opened ({(why is null ? "no video stream" : VideoCaptureSource.Redact(why))})");
        }
        if ((long)w * h > ImageIO.MaxPixels) throw new InvalidDataException($"source={VideoCaptureSource.Redact(url)}: {w}x{h} frames are too large");
        double fps = parts.Skip(2).Select(Rate).FirstOrDefault(r => r is > 0 and < 1000);
        return new FfmpegStreamSource(url, w, h, fps > 0 ? fps : 30, timeout, vidStride, warn);
    }

    static double Rate(string text)
    {
        var p = text.Split('/');
        return p.Length == 2 && double.TryParse(p[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var a)
            && double.TryParse(p[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var b) && b > 0 ? a / b
            : double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var r) ? r : 0;
    }

    // Network I/O limits for the input: RTSP over TCP (fewer lost packets than UDP), and a read timeout in microseconds.
    static IEnumerable<string> InputOptions(string url, TimeSpan timeout)
    {
        var us = ((long)timeout.TotalMilliseconds * 1000).ToString(CultureInfo.InvariantCulture);
        if (url.StartsWith("rtsp://", StringComparison.OrdinalIgnoreCase)) return new[] { "-rtsp_transport", "tcp", "-timeout", us };
        return new[] { "-rw_timeout", us };
    }

    static ProcessStartInfo Tool(string name, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo(name) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        return psi;
    }

    public IEnumerable<SourceFrame> ReadFrames(CancellationToken cancel = default)
    {
        if (_read) throw new InvalidOperationException($"{Name}: frames can be read once");
        _read = true;
        _ffmpeg = Process.Start(Tool("ffmpeg", new[] { "-hide_banner", "-loglevel", "error", "-nostdin" }
            .Concat(InputOptions(Name, _timeout))
            // Frames are cut from the pipe at the probed size: keep them at that size even when the stream carries rotation
            // metadata (ffmpeg would swap width and height) or changes resolution mid-stream (scaled back to the probed size).
            .Concat(new[] { "-noautorotate", "-i", Name, "-map", "0:v:0", "-s", $"{Width}x{Height}", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1" })))
            ?? throw new IOException("cannot start ffmpeg");
        var errors = _ffmpeg.StandardError.ReadToEndAsync();
        var pipe = _ffmpeg.StandardOutput.BaseStream;
        int frameBytes = Width * Height * 3, index = -1;
        while (!cancel.IsCancellationRequested)
        {
            var buffer = new byte[frameBytes];
            int got = ReadFrame(pipe, buffer, cancel);
            if (got < frameBytes)
            {
                if (cancel.IsCancellationRequested) break;
                var why = got < 0 ? $"no frame within {_timeout.TotalSeconds:0.#} s" : "the stream ended";
                var detail = got < 0 ? null : errors.Wait(TimeSpan.FromSeconds(1)) ? errors.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault()?.Trim() : null;
                _warn($"source={VideoCaptureSource.Redact(Name)}: {why} after {index + 1} frames{(string.IsNullOrEmpty(detail) ? "" : $" ({VideoCaptureSource.Redact(detail)})")}");
                break;
            }
            index++;
            if (index % _stride != 0) continue;
            yield return new SourceFrame(Name, index, TimeSpan.FromSeconds(index / Fps), new RgbImage(Width, Height, buffer), IsVideo: true, Fps / _stride);
        }
    }

    // Reads one whole frame; the number of bytes read (short at the end of the stream), or −1 on a timeout.
    int ReadFrame(Stream pipe, byte[] buffer, CancellationToken cancel)
    {
        int total = 0;
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        cts.CancelAfter(_timeout);
        try
        {
            while (total < buffer.Length)
            {
                int n = pipe.ReadAsync(buffer.AsMemory(total), cts.Token).AsTask().GetAwaiter().GetResult();
                if (n == 0) break;
                total += n;
            }
        }
        catch (OperationCanceledException) { return cancel.IsCancellationRequested ? total : -1; }
        return total;
    }

    static void Kill(Process p)
    {
        try { if (!p.HasExited) p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
    }

    public void Dispose()
    {
        if (_ffmpeg is null) return;
        Kill(_ffmpeg);
        _ffmpeg.Dispose();
        _ffmpeg = null;
    }
}
