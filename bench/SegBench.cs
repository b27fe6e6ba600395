using Strix.Eval;
using Strix.Inference;
using Strix.Models;
using Strix.Tasks.Segment;
using static TorchSharp.torch;

namespace Strix.Bench;

/// <summary>
/// Segmentation at 640: yolov8n-seg's forward beside yolov8n's (same run, alternating), and the post-processing of
/// its two outputs — NMS, then each kept detection's mask (coefficients · prototypes, crop, upsample, letterbox undone)
/// on a 640×480 original — for a predict-like output (~50 confident detections at conf 0.25) and a validation-like one
/// (conf 0.001, 300 kept), against NMS alone on the same output.
/// </summary>
public static class SegBench
{
    public static int Run(string[] args)
    {
        int imgsz = 640;
        int runs = args.Contains("quick") ? 3 : 10;
        manual_seed(0);
        var forward = new List<object>();
        using var seg = DetectionModel.Create("yolov8n-seg", 80);
        using var det = DetectionModel.Create("yolov8n", 80);
        foreach (var m in new[] { seg, det }) { m.eval(); m.Fuse(); }
        using var x = rand(1, 3, imgsz, imgsz);
        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.BFloat16 })
        {
            double Time(DetectionModel m) => BenchUtil.MedianMs(() =>
            {
                using var _ = no_grad();
                using var cast = dtype == ScalarType.BFloat16 ? Strix.Nn.Autocast.Enable(dtype) : null;
                foreach (var t in m.forward(x)) t.Dispose();
            }, runs, warmup: 1);
            // Alternate the two models so drift of the host's speed falls on both.
            double segMs = 0, detMs = 0;
            for (int round = 0; round < 2; round++) { segMs += Time(seg); detMs += Time(det); }
            segMs /= 2; detMs /= 2;
            forward.Add(new { dtype = dtype.ToString(), fused = true, batch = 1, seg_ms = BenchUtil.Round(segMs), det_ms = BenchUtil.Round(detMs), ratio = BenchUtil.Round(segMs / detMs, 3) });
            Console.Error.WriteLine($"{dtype}: yolov8n-seg {segMs:F1} ms, yolov8n {detMs:F1} ms");
        }
        var post = new[] { PostTiming(0.25, runs * 3, confident: 60), PostTiming(0.001, runs, confident: 0) };
        BenchUtil.Print(new { bench = "seg", model = "yolov8n-seg", imgsz, original = "640x480", machine = BenchUtil.Machine(), forward, postprocess = post });
        return 0;
    }

    /// <summary>NMS + masks vs NMS alone on a synthetic 8400-anchor, 80-class, 32-coefficient output.</summary>
    static object PostTiming(double conf, int runs, int confident)
    {
        manual_seed(2);
        using var xy = rand(1, 2, 8400) * 640;
        using var wh = rand(1, 2, 8400) * 200 + 4;
        using var logits = randn(1, 80, 8400) * 1.5 - 10;
        using var scores = logits.sigmoid();
        if (confident > 0)
        {
            // A few anchors with real detections' scores (0.3–0.95) in random classes.
            using var anchors = randint(8400, new long[] { confident });
            using var classes = randint(80, new long[] { confident });
            var a = anchors.data<long>().ToArray(); var c = classes.data<long>().ToArray();
            using var high = rand(confident) * 0.65 + 0.3;
            var h = high.data<float>().ToArray();
            for (int k = 0; k < confident; k++) scores[0, c[k], a[k]] = tensor(h[k]);
        }
        using var coef = randn(1, 32, 8400);
        using var pred = cat(new[] { xy, wh, scores, coef }, 1);
        using var protos = randn(1, 32, 160, 160);
        var frame = new InputFrame(1, 1, 0, 80, 640, 480);
        var options = new PredictOptions { Conf = conf, Iou = 0.7, MaxDet = 300 };
        var postprocessor = new SegmentationPostprocessor(options);
        int kept = 0;
        double total = BenchUtil.MedianMs(() =>
        {
            var r = postprocessor.Postprocess(new[] { pred, protos }, new[] { frame }, Enumerable.Range(0, 80).Select(i => $"c{i}").ToArray());
            kept = r[0].Detections.Count;
        }, runs, warmup: 2);
        double nmsOnly = BenchUtil.MedianMs(() =>
        {
            var d = Nms.NonMaxSuppression(pred, new NmsOptions { Conf = conf, Iou = 0.7, MaxDet = 300, NumClasses = 80 });
            foreach (var t in d) t.Dispose();
        }, runs, warmup: 2);
        return new { conf, kept, ms_nms_and_masks = BenchUtil.Round(total, 2), ms_nms_only = BenchUtil.Round(nmsOnly, 2), ms_masks = BenchUtil.Round(total - nmsOnly, 2) };
    }
}
