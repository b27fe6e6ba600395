using Strix.Data;
using Strix.Inference.Sources;

namespace Strix.Tests.Inference.Sources;

public class FrameSourcesTests
{
    // A live source that produces frames faster than the consumer takes them.
    sealed class FakeLive : IFrameSource
    {
        public string Name => "fake";
        public bool IsLive => true;
        public bool IsVideo => true;
        public double Fps => 30;
        public int? FrameCount => null;
        public IEnumerable<SourceFrame> ReadFrames(CancellationToken cancel = default)
        {
            for (int i = 0; i < 200 && !cancel.IsCancellationRequested; i++)
            {
                Thread.Sleep(1);
                yield return new SourceFrame(Name, i, TimeSpan.FromSeconds(i / 30.0), RgbImage.Filled(4, 4, 0, 0, 0), true);
            }
        }
        public void Dispose() { }
    }

    sealed class Failing : IFrameSource
    {
        public string Name => "bad";
        public bool IsLive => false;
        public bool IsVideo => true;
        public double Fps => 30;
        public int? FrameCount => null;
        public IEnumerable<SourceFrame> ReadFrames(CancellationToken cancel = default)
        {
            yield return new SourceFrame(Name, 0, TimeSpan.Zero, RgbImage.Filled(4, 4, 0, 0, 0), true);
            throw new InvalidDataException("bad: decoder broke");
        }
        public void Dispose() { }
    }

    [Fact]
    public void A_slow_consumer_of_a_live_source_sees_the_newest_frames_and_with_stream_buffer_every_frame()
    {
        var dropped = new List<int>();
        foreach (var f in FramePrefetcher.Prefetch(new FakeLive())) { dropped.Add(f.Index); Thread.Sleep(10); }
        Assert.True(dropped.Count < 150, $"{dropped.Count} frames seen");
        Assert.Equal(dropped.OrderBy(i => i), dropped);   // in order, never repeated
        Assert.Equal(199, dropped[^1]);                   // the last frame is not lost

        var buffered = FramePrefetcher.Prefetch(new FakeLive(), streamBuffer: true).Select(f => f.Index).ToList();
        Assert.Equal(Enumerable.Range(0, 200), buffered);
    }

    /// <summary>A live source whose second read blocks without looking at the token, as a native camera read does.</summary>
    sealed class Stalling : IFrameSource
    {
        public volatile bool InRead, DisposedDuringRead, Disposed;
        public string Name => "stall";
        public bool IsLive => true;
        public bool IsVideo => true;
        public double Fps => 30;
        public int? FrameCount => null;
        public IEnumerable<SourceFrame> ReadFrames(CancellationToken cancel = default)
        {
            yield return new SourceFrame(Name, 0, TimeSpan.Zero, RgbImage.Filled(4, 4, 0, 0, 0), true);
            InRead = true;
            Thread.Sleep(600);
            InRead = false;
            yield return new SourceFrame(Name, 1, TimeSpan.Zero, RgbImage.Filled(4, 4, 0, 0, 0), true);
        }
        public void Dispose() { DisposedDuringRead |= InRead; Disposed = true; }
    }

    [Fact]
    public void Stopping_early_never_disposes_the_source_under_a_blocked_read()
    {
        var src = new Stalling();
        foreach (var f in FramePrefetcher.Prefetch(src, ownsSource: true, decoderWait: TimeSpan.FromMilliseconds(50)))
        {
            SpinWait.SpinUntil(() => src.InRead, 2000);
            break; // the consumer stops while the decoder is inside its read
        }
        Assert.False(src.Disposed);                       // not yet: the read is still running
        Assert.True(SpinWait.SpinUntil(() => src.Disposed, 5000), "the source was never disposed");
        Assert.False(src.DisposedDuringRead);
    }

    [Fact]
    public void A_decoder_error_surfaces_after_the_frames_it_delivered()
    {
        var seen = new List<int>();
        var e = Assert.Throws<InvalidDataException>(() => { foreach (var f in FramePrefetcher.Prefetch(new Failing())) seen.Add(f.Index); });
        Assert.Equal("bad: decoder broke", e.Message);
        Assert.Equal(new[] { 0 }, seen);
    }

    [Fact]
    public void Sources_expand_as_ultralytics_reads_them()
    {
        var dir = TestPaths.NewTempDir("strix-sources");
        foreach (var n in new[] { "b.jpg", "a.mp4", "c.txt.bak", "d.avi", "e.png" }) File.WriteAllBytes(Path.Combine(dir, n), new byte[] { 1 });
        Assert.Equal(new[] { "a.mp4", "b.jpg", "d.avi", "e.png" }, FrameSources.Expand(dir).Select(Path.GetFileName));
        Assert.Equal(new[] { "a.mp4", "d.avi" }, FrameSources.Expand(Path.Combine(dir, "*.?v?")).Concat(FrameSources.Expand(Path.Combine(dir, "*.mp4"))).Select(Path.GetFileName).Distinct().OrderBy(x => x));
        Assert.Equal(new[] { "0" }, FrameSources.Expand("0"));
        Assert.Equal(new[] { "rtsp://cam/1" }, FrameSources.Expand("rtsp://cam/1"));
        var list = Path.Combine(dir, "list.txt");
        File.WriteAllLines(list, new[] { "# cameras and files", Path.Combine(dir, "a.mp4"), "", "rtsp://cam/2", dir });
        Assert.Equal(2 + 4, FrameSources.Expand(list).Count);
        File.WriteAllLines(list, new[] { Path.Combine(dir, "a.mp4"), Path.Combine(dir, "nope.mp4") });
        var e = Assert.Throws<FileNotFoundException>(() => FrameSources.Expand(list));
        Assert.StartsWith($"{list}:2: source '", e.Message);
        Assert.Throws<InvalidDataException>(() => FrameSources.Expand(Path.Combine(dir, "c.txt.bak")));
        Assert.Throws<FileNotFoundException>(() => FrameSources.Expand(Path.Combine(dir, "missing.mp4")));
        Assert.True(FrameSources.IsVideoFile("x.MKV"));
    }
}
