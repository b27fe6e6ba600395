using System.Runtime.InteropServices;
using System.Globalization;
using Strix.Config;
using Strix.Data;
using Strix.Engine;
using Strix.Inference;
using Strix.Inference.Solutions;
using Strix.Inference.Sources;
using Strix.Inference.Tracking;

namespace Strix.Cli.Commands;

/// <summary>
/// The loop <c>predict</c> and <c>track</c> share: stream the source through the model (and the tracker and
/// counter when tracking), print a line per image or frame as Ultralytics does, and save what was asked.
/// </summary>
internal static class PredictionLoop
{
    public static int Run(PredictConfig c, TrackConfig? track)
    {
        var source = c.Source!;
        var entries = FrameSources.Expand(source);
        if (entries.Count == 0)
            throw new FileNotFoundException($"source={source}: no images or videos found (extensions: {string.Join(", ", ImageIO.ImageExtensions.Concat(FrameSources.VideoExtensions))})");
        // Video files and cameras need OpenCV; say so before the model loads (streams may go through FFmpeg alone).
        if (entries.Any(e => FrameSources.IsVideoFile(e) || FrameSources.IsCameraIndex(e, out _))) OpenCv.EnsureAvailable();
        var tracker = track is null ? null : TrackerConfig.Load(track.Tracker);

        using var yolo = Yolo.Load(c.Model, c.Device, Console.WriteLine);
        var task = yolo.Backend.Task;
        if (tracker is not null && task == "classify") throw new NotSupportedException($"model={c.Model} is a classifier: tracking needs boxes (a detect or segment model)");
        var save = c.ToSaveOptions();
        // runs/<task>/predict as Ultralytics, unless project= names the folder.
        var project = c.IsGiven("project") ? c.Project : Path.Combine("runs", task);
        string? runDir = save.Any ? RunDirectory.Create(project, c.Name, c.ExistOk, withWeights: false) : null;
        var predictor = yolo.Predictor(c.ToOptions());
        int failed = 0;
        predictor.OnError = (p, e) => { failed++; Console.Error.WriteLine($"WARNING ⚠️ {e.Message}"); };

        bool persist = track?.Persist ?? false;
        using var tracking = tracker is null ? null : new ResultsTracker(new ByteTracker(tracker)) { Persist = persist };
        var region = track?.Region is { } text ? ObjectCounter.ParseRegion(text) : null;
        var counter = region is null ? null : new ObjectCounter(region);
        Func<Results, RgbImage>? draw = tracking is null ? null
            : r => tracking.Plot(r, counter is null ? null : CountLines(counter, yolo.Names), region);
        using var writer = runDir is null ? null : new ResultsWriter(runDir, save, draw);

        int images = entries.Count(ImageIO.IsImageFile), videos = entries.Count - images;
        int imageNo = 0, videoNo = 0, done = 0;
        string? current = null;
        double pre = 0, inf = 0, post = 0;
        // Ctrl+C (or SIGTERM) is how a camera or stream run ends: stop after the current frame, so the video is finished
        // and renamed into place and the counts are printed; a second signal aborts at once.
        int stops = 0;
        void OnStop(PosixSignalContext c)
        {
            if (Interlocked.Increment(ref stops) > 1) return;
            c.Cancel = true;
            Console.Error.WriteLine("Stopping after this frame; press Ctrl+C again to abort");
        }
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnStop);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnStop);
        foreach (var raw in predictor.Stream(entries))
        {
            if (Volatile.Read(ref stops) > 0) break;
            var r = raw;
            bool newSource = r.Path != current;
            if (newSource)
            {
                if (r.FrameIndex is not null) videoNo++; else imageNo++;
                if (!persist) counter?.Reset();
                current = r.Path;
            }
            if (tracking is not null) r = tracking.Track(r);
            counter?.Update(r);
            done++;
            pre += r.Speed.Preprocess; inf += r.Speed.Inference; post += r.Speed.Postprocess;
            var what = r.FrameIndex is int f
                ? $"video {videoNo}/{videos} (frame {f + 1}{(r.SourceFrames is int n ? $"/{n}" : "")}) {r.Path}"
                : $"image {imageNo}/{images} {r.Path}";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{what}: {r.OrigWidth}x{r.OrigHeight} {r.Summary()}, {r.Speed.Inference:F1}ms"));
            writer?.Write(r);
        }
        writer?.Complete();
        if (done > 0)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Speed: {pre / done:F1}ms preprocess, {inf / done:F1}ms inference, {post / done:F1}ms postprocess per image"));
        if (counter is not null)
            foreach (var line in CountLines(counter, yolo.Names)) Console.WriteLine(line);
        if (runDir is not null) Console.WriteLine($"Results saved to {Path.GetRelativePath(Environment.CurrentDirectory, runDir)}");
        if (failed > 0) Console.Error.WriteLine($"{failed} of {entries.Count} source(s) could not be read (see warnings above)");
        return done == 0 ? 1 : 0;
    }

    static IReadOnlyList<string> CountLines(ObjectCounter counter, IReadOnlyList<string> names)
    {
        var lines = new List<string> { $"in {counter.InCount}, out {counter.OutCount}" };
        lines.AddRange(counter.Counts(names).Select(k => $"{k.Name}: in {k.In}, out {k.Out}"));
        return lines;
    }
}
