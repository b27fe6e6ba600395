using System.Diagnostics;
using Strix.Data;
using Strix.Inference.Sources;

namespace Strix.Tests.Inference.Sources;

public class VideoSourceTests
{
    static string WriteClip(string dir, string name, int frames, double fps = 25)
    {
        using var clip = new ShapesClip(new ShapesClipOptions { Frames = frames, Fps = fps });
        var path = Path.Combine(dir, name);
        using var sink = new VideoSink(path, fps, clip.Options.Width, clip.Options.Height);
        foreach (var f in clip.Frames()) sink.Write(f);
        sink.Complete();
        return path;
    }

    static double MeanAbsDiff(RgbImage a, RgbImage b) =>
        a.Pixels.Zip(b.Pixels, (x, y) => Math.Abs(x - y)).Average();

    [SkippableFact]
    public void A_written_clip_reads_back_with_its_frame_count_timestamps_and_pixels()
    {
        Requires.Video();
        var dir = TestPaths.NewTempDir("strix-video");
        var path = WriteClip(dir, "clip.mp4", 30);
        Assert.Equal(new[] { "clip.mp4" }, Directory.GetFiles(dir).Select(Path.GetFileName)); // no temp file left
        using var clip = new ShapesClip(new ShapesClipOptions { Frames = 30 });
        using var src = FrameSources.Open(path);
        Assert.True(src.IsVideo);
        Assert.False(src.IsLive);
        Assert.Equal(25, src.Fps, 3);
        Assert.Equal(30, src.FrameCount);
        var frames = src.ReadFrames().ToList();
        Assert.Equal(Enumerable.Range(0, 30), frames.Select(f => f.Index));
        Assert.Equal(frames.Select(f => f.Index * 40.0), frames.Select(f => Math.Round(f.Timestamp.TotalMilliseconds, 3)));
        Assert.All(frames, f => Assert.Equal((320, 240), (f.Image.Width, f.Image.Height)));
        // Lossy MPEG-4 at default quality: close to the rendered frame, far from another one.
        double same = MeanAbsDiff(frames[10].Image, clip.Render(10)), other = MeanAbsDiff(frames[10].Image, clip.Render(25));
        Assert.True(same < 6, $"mean |Δ| {same:F2}");
        Assert.True(other > same * 1.5, $"{other:F2} vs {same:F2}");
    }

    [SkippableFact]
    public void Vid_stride_keeps_every_nth_frame_and_the_prefetcher_delivers_all_of_a_file_in_order()
    {
        Requires.Video();
        var path = WriteClip(TestPaths.NewTempDir("strix-video"), "clip.avi", 20);
        using (var src = FrameSources.Open(path, new SourceOptions { VidStride = 3 }))
            Assert.Equal(new[] { 0, 3, 6, 9, 12, 15, 18 }, src.ReadFrames().Select(f => f.Index));
        using (var src = FrameSources.Open(path))
            Assert.Equal(Enumerable.Range(0, 20), FramePrefetcher.Prefetch(src, queueLength: 2).Select(f => f.Index));
    }

    [SkippableFact]
    public void A_truncated_video_gives_the_frames_before_the_damage_and_a_warning_and_garbage_is_refused_by_name()
    {
        Requires.Video();
        var dir = TestPaths.NewTempDir("strix-video");
        var path = WriteClip(dir, "clip.avi", 40);
        var bytes = File.ReadAllBytes(path);
        var cut = Path.Combine(dir, "cut.avi");
        File.WriteAllBytes(cut, bytes[..(bytes.Length / 2)]);
        var warnings = new List<string>();
        var sw = Stopwatch.StartNew();
        using (var src = FrameSources.Open(cut, new SourceOptions { Warn = warnings.Add }))
        {
            var n = src.ReadFrames().Count();
            Assert.InRange(n, 5, 39);
            Assert.Contains($"read {n} of the 40 frames", Assert.Single(warnings));
            Assert.Contains("cut.avi", warnings[0]);
        }
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(20));

        var garbage = Path.Combine(dir, "garbage.mp4");
        File.WriteAllText(garbage, "not a video at all");
        var e = Assert.Throws<InvalidDataException>(() => FrameSources.Open(garbage));
        Assert.Contains("garbage.mp4", e.Message);
        // An mp4 cut before its index cannot be opened at all: the same clear error.
        var mp4 = WriteClip(dir, "clip.mp4", 10);
        var half = Path.Combine(dir, "half.mp4");
        File.WriteAllBytes(half, File.ReadAllBytes(mp4)[..1000]);
        Assert.Contains("half.mp4", Assert.Throws<InvalidDataException>(() => FrameSources.Open(half)).Message);
    }

    [SkippableFact]
    public void A_camera_that_is_not_there_is_a_clear_error()
    {
        Requires.Video();
        Skip.If(File.Exists("/dev/video57"), "this machine has a /dev/video57");
        var sw = Stopwatch.StartNew();
        var e = Assert.Throws<IOException>(() => FrameSources.Open("57"));
        Assert.Equal("source=57: camera 57 cannot be opened (no such device, or it is busy)", e.Message);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10));
    }

    [SkippableFact]
    public void A_sink_that_cannot_write_names_the_file_and_an_unfinished_one_leaves_nothing()
    {
        Requires.Video();
        var dir = TestPaths.NewTempDir("strix-video");
        Assert.Throws<IOException>(() => new VideoSink(Path.Combine(dir, "missing-folder", "x.mp4"), 25, 64, 64));
        using (var sink = new VideoSink(Path.Combine(dir, "x.mp4"), 25, 64, 64))
        {
            sink.Write(RgbImage.Filled(64, 64, 10, 20, 30));
            Assert.Throws<ArgumentException>(() => sink.Write(RgbImage.Filled(32, 32, 0, 0, 0)));
        }
        Assert.Empty(Directory.GetFiles(dir));
    }
}

/// <summary>Network streams through the system's FFmpeg, served by a local HTTP server (no network needed).</summary>
public class StreamSourceTests
{
    static void RequireFfmpeg() =>
        Requires.Available(FfmpegStreamSource.IsAvailable, $"{FfmpegStreamSource.InstallHint} (.ci/run installs ffmpeg)");

    static int FreePort()
    {
        var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        l.Start();
        int port = ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    [SkippableFact]
    public void An_http_stream_is_read_frame_by_frame_as_a_live_source()
    {
        Requires.Video();
        RequireFfmpeg();
        var dir = TestPaths.NewTempDir("strix-stream");
        using var clip = new ShapesClip(new ShapesClipOptions { Frames = 15 });
        var file = Path.Combine(dir, "clip.avi");
        using (var sink = new VideoSink(file, 25, 320, 240)) { foreach (var f in clip.Frames()) sink.Write(f); sink.Complete(); }
        var bytes = File.ReadAllBytes(file);
        int port = FreePort();
        using var http = new System.Net.HttpListener();
        http.Prefixes.Add($"http://127.0.0.1:{port}/");
        http.Start();
        var serving = Task.Run(async () =>
        {
            while (http.IsListening)
            {
                System.Net.HttpListenerContext ctx;
                try { ctx = await http.GetContextAsync(); } catch (Exception) { return; }
                ctx.Response.ContentType = "video/x-msvideo";
                ctx.Response.ContentLength64 = bytes.Length;
                try { await ctx.Response.OutputStream.WriteAsync(bytes); ctx.Response.Close(); } catch (Exception) { }
            }
        });
        var url = $"http://127.0.0.1:{port}/clip.avi";
        var warnings = new List<string>();
        using (var src = FrameSources.Open(url, new SourceOptions { StreamTimeout = TimeSpan.FromSeconds(5), Warn = warnings.Add }))
        {
            Assert.True(src.IsLive);
            Assert.Equal(25, src.Fps, 3);
            var frames = FramePrefetcher.Prefetch(src, streamBuffer: true).ToList();
            Assert.Equal(Enumerable.Range(0, 15), frames.Select(f => f.Index));
            Assert.All(frames, f => Assert.Equal((320, 240), (f.Image.Width, f.Image.Height)));
            double diff = frames[7].Image.Pixels.Zip(clip.Render(7).Pixels, (a, b) => Math.Abs(a - b)).Average();
            Assert.True(diff < 8, $"mean |Δ| {diff:F2}");
        }
        Assert.Contains("the stream ended after 15 frames", Assert.Single(warnings));
        http.Stop();
    }

    [SkippableFact]
    public void A_server_that_never_answers_fails_within_the_timeout_and_a_refused_one_names_the_url()
    {
        Requires.Video();
        RequireFfmpeg();
        var silent = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        silent.Start();  // accepts connections (the kernel's backlog) and never replies
        int port = ((System.Net.IPEndPoint)silent.LocalEndpoint).Port;
        var sw = Stopwatch.StartNew();
        var e = Assert.Throws<IOException>(() => FrameSources.Open($"http://127.0.0.1:{port}/live", new SourceOptions { StreamTimeout = TimeSpan.FromSeconds(2) }));
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(6), $"took {sw.Elapsed}");
        Assert.StartsWith($"source=http://127.0.0.1:{port}/live:", e.Message);
        silent.Stop();

        e = Assert.Throws<IOException>(() => FrameSources.Open($"rtsp://user:secret@127.0.0.1:{FreePort()}/cam", new SourceOptions { StreamTimeout = TimeSpan.FromSeconds(2) }));
        Assert.Contains("rtsp://***@127.0.0.1:", e.Message);
        Assert.DoesNotContain("secret", e.Message);
    }
}
