using System.Diagnostics;
using Strix.Data;
using Strix.Eval;
using Strix.Inference;
using Strix.Inference.Solutions;
using Strix.Inference.Sources;
using Strix.Inference.Tracking;

namespace Strix.Bench;

/// <summary>
/// Video end to end on the generated shapes clip: write it as MPEG-4, then decode → letterbox → inference → NMS →
/// track → draw → encode, with the time of each stage per frame, the frames per second, and the tracking metrics
/// (MOTA, IDF1, ID switches) and line counts against the clip's ground truth.
/// <c>bench -- track model=best.safetensors imgsz=160 width=320 height=240 frames=120 tracker=bytetrack.yaml</c>
/// </summary>
public static class TrackBench
{
    public static int Run(string[] args)
    {
        var o = BenchUtil.Options(args);
        string model = o.GetValueOrDefault("model", "yolov8n");
        int imgsz = int.Parse(o.GetValueOrDefault("imgsz", "640"));
        int width = int.Parse(o.GetValueOrDefault("width", "640")), height = int.Parse(o.GetValueOrDefault("height", "480"));
        int frames = int.Parse(o.GetValueOrDefault("frames", "120"));
        var trackerCfg = TrackerConfig.Load(o.GetValueOrDefault("tracker", "bytetrack.yaml"));
        var dir = Path.Combine(Path.GetTempPath(), $"strix-trackbench-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        using var clip = new ShapesClip(new ShapesClipOptions { Width = width, Height = height, Frames = frames });
        var video = o.GetValueOrDefault("clip", Path.Combine(dir, "clip.mp4"));
        using (var sink = new VideoSink(video, clip.Options.Fps, width, height))
        {
            foreach (var f in clip.Frames()) sink.Write(f);
            sink.Complete();
        }

        // Decoding alone, on this thread.
        var sw = Stopwatch.StartNew();
        int decoded;
        using (var src = FrameSources.Open(video)) decoded = src.ReadFrames().Count();
        double decodeMs = sw.Elapsed.TotalMilliseconds / decoded;

        using var yolo = Yolo.Load(model);
        var predictor = yolo.Predictor(new PredictOptions { Conf = 0.1, ImgSz = imgsz });
        // Warm-up: one frame through the model.
        _ = predictor.Predict(new[] { clip.Render(0) }).ToList();

        var tracking = new ResultsTracker(new ByteTracker(trackerCfg));
        var line = new[] { (width / 2.0, 0.0), (width / 2.0, (double)height) };
        var counter = new ObjectCounter(line);
        var hyps = new List<IReadOnlyList<IdentifiedBox>>();
        double pre = 0, inf = 0, post = 0, trackMs = 0, drawMs = 0, encodeMs = 0, detections = 0;
        var total = Stopwatch.StartNew();
        using (var src = FrameSources.Open(video))
        using (var sink = new VideoSink(Path.Combine(dir, "tracked.mp4"), src.Fps, width, height))
        {
            foreach (var raw in predictor.Predict(FramePrefetcher.Prefetch(src)))
            {
                pre += raw.Speed.Preprocess; inf += raw.Speed.Inference; post += raw.Speed.Postprocess;
                detections += raw.Count;
                sw.Restart();
                var r = tracking.Track(raw);
                counter.Update(r);
                trackMs += sw.Elapsed.TotalMilliseconds;
                hyps.Add(r.Detections.Select(d => new IdentifiedBox(d.TrackId!.Value, d.Box.X1, d.Box.Y1, d.Box.X2, d.Box.Y2)).ToList());
                sw.Restart();
                var drawn = tracking.Plot(r);
                drawMs += sw.Elapsed.TotalMilliseconds;
                sw.Restart();
                sink.Write(drawn);
                encodeMs += sw.Elapsed.TotalMilliseconds;
            }
            sink.Complete();
        }
        double wall = total.Elapsed.TotalMilliseconds;
        int n = hyps.Count;
        var truth = clip.GroundTruth.Select(f => (IReadOnlyList<IdentifiedBox>)f.Select(g => new IdentifiedBox(g.Id, g.X1, g.Y1, g.X2, g.Y2)).ToList()).ToList();
        var metrics = TrackingMetrics.Compute(truth, hyps);
        var truthCounter = new ObjectCounter(line);
        foreach (var f in clip.GroundTruth) truthCounter.Update(f.Select(g => (g.Id, g.ClassId, (double)g.CenterX, (double)g.CenterY)));
        double infer = inf / n;
        BenchUtil.Print(new
        {
            machine = BenchUtil.Machine(),
            what = "shapes clip written as MPEG-4 (OpenCV/FFmpeg), then decode (its own thread) → letterbox → inference → NMS → track → draw → encode, one frame at a time",
            model, imgsz, width, height, frames = n, tracker = trackerCfg.TrackerType,
            fps_end_to_end = BenchUtil.Round(n / (wall / 1000), 1),
            ms_per_frame = new
            {
                decode = BenchUtil.Round(decodeMs), preprocess = BenchUtil.Round(pre / n), inference = BenchUtil.Round(infer),
                postprocess_nms = BenchUtil.Round(post / n), track = BenchUtil.Round(trackMs / n, 3), draw = BenchUtil.Round(drawMs / n),
                encode = BenchUtil.Round(encodeMs / n), wall = BenchUtil.Round(wall / n),
            },
            decode_plus_track_over_inference = BenchUtil.Round((decodeMs + trackMs / n) / infer, 3),
            detections_per_frame = BenchUtil.Round(detections / n),
            tracking = new
            {
                hota = BenchUtil.Round(metrics.Hota, 3), det_a = BenchUtil.Round(metrics.DetA, 3), ass_a = BenchUtil.Round(metrics.AssA, 3),
                mota = BenchUtil.Round(metrics.Mota, 3), idf1 = BenchUtil.Round(metrics.Idf1, 3), motp = BenchUtil.Round(metrics.Motp, 3),
                id_switches = metrics.IdSwitches, misses = metrics.Misses, false_positives = metrics.FalsePositives,
                ground_truth_boxes = metrics.GroundTruthBoxes, objects = metrics.GroundTruthIds, track_ids = metrics.HypothesisIds,
            },
            counts = new { tracked = new { counter.InCount, counter.OutCount }, truth = new { truthCounter.InCount, truthCounter.OutCount } },
        });
        try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        return 0;
    }
}
