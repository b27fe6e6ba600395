using Strix.Cli.Commands;
using Strix.Data;
using Strix.Eval;
using Strix.Inference;
using Strix.Models;
using Strix.Tasks;
using Strix.Tasks.Detect;
using Strix.Tests.Eval;
using Strix.Tests.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Strix.Tests.Tasks.Detect;

public class DetectionValidatorTests(Xunit.Abstractions.ITestOutputHelper output) : IDisposable
{
    readonly Scratch _tmp = new();
    public void Dispose() => _tmp.Dispose();

    /// <summary>
    /// A backend that "detects" the current batch's labels: each box jittered, with a confidence, plus a
    /// wrong-class shifted copy at lower confidence — known, imperfect detections through the real
    /// loader, letterbox, NMS and scaling.
    /// </summary>
    sealed class OracleBackend(IReadOnlyList<string> names, int seed) : IDetectionBackend
    {
        readonly Random _rng = new(seed);
        public Batch? Current;
        public IReadOnlyList<string> Names => names;
        public int ImageSize => 320;
        public int Stride => 32;
        public bool DynamicShape => true;
        public Device Device => CPU;
        public void Dispose() { }

        public Tensor Forward(Tensor images)
        {
            var b = Current!;
            int nc = names.Count, h = (int)images.shape[2], w = (int)images.shape[3];
            var idx = b.BatchIdx.data<float>().ToArray(); var cls = b.Cls.data<float>().ToArray(); var box = b.Bboxes.data<float>().ToArray();
            int anchors = 2 * Math.Max(1, Enumerable.Range(0, b.Count).Max(i => idx.Count(v => v == i)));
            var outp = new float[b.Count * (4 + nc) * anchors];
            var slot = new int[b.Count];
            for (int k = 0; k < idx.Length; k++)
            {
                int i = (int)idx[k], a = slot[i]; slot[i] += 2;
                float cx = box[k * 4] * w, cy = box[k * 4 + 1] * h, bw = box[k * 4 + 2] * w, bh = box[k * 4 + 3] * h;
                void Put(int anchor, float x, float y, float ww, float hh, int c, float s)
                {
                    float[] v = { x, y, ww, hh };
                    for (int q = 0; q < 4; q++) outp[(i * (4 + nc) + q) * anchors + anchor] = v[q];
                    outp[(i * (4 + nc) + 4 + c) * anchors + anchor] = s;
                }
                float J() => (float)(_rng.NextDouble() - 0.5) * 0.15f;
                Put(a, cx + J() * bw, cy + J() * bh, bw * (1 + J()), bh * (1 + J()), (int)cls[k], 0.3f + 0.7f * _rng.NextSingle());
                Put(a + 1, cx + bw * 0.6f, cy, bw, bh, ((int)cls[k] + 1) % nc, 0.4f * _rng.NextSingle());
            }
            return tensor(outp, new long[] { b.Count, 4 + nc, anchors });
        }
    }

    static DatasetConfig Coco128 => DatasetConfig.Load(TestPaths.Asset("coco128.yaml"));
    static string Coco128Annotations => TestPaths.Asset("coco128", "annotations", "instances_coco128_train2017.json");

    [SkippableFact]
    public void PredictionsJsonFromCoco128RoundTripsToTheSameMetrics()
    {
        var config = Coco128;
        // STRIX_PLOT_DIR keeps this run's plots (realistic curves) for a look.
        var keep = Environment.GetEnvironmentVariable("STRIX_PLOT_DIR");
        var dir = string.IsNullOrEmpty(keep) ? _tmp.NewDir("strix-val") : Path.Combine(keep, "oracle-coco128");
        using var loader = DataLoader.Create(config, "val", DataLoaderOptions.ForValidation(imgsz: 320, batch: 16, workers: 2), _ => { });
        var oracle = new OracleBackend(config.Names, seed: 3);
        var v = new DetectionValidator(config.Names, new ValidatorOptions
        {
            Plots = !string.IsNullOrEmpty(keep), SaveJson = true, SaveDir = dir, CocoAnnotations = Coco128Annotations, Log = output.WriteLine,
        });
        var r = v.Run(oracle, loader.Select(b => { oracle.Current = b; return b; }));

        Assert.Equal(128, r.Metrics.Images);
        Assert.Equal(929, r.Metrics.Instances);
        Assert.InRange(r.Metrics.Map50, 0.5, 0.99);
        Assert.InRange(r.Metrics.Map, 0.2, r.Metrics.Map50);

        // Read predictions.json back and score it against the YOLO labels: the same numbers.
        var json = Path.Combine(dir, "predictions.json");
        Assert.Contains(json, r.Files);
        var back = CocoJsonEvaluator.Evaluate(json, TestPaths.Asset("coco128", "images", "train2017"), config.Names);
        Assert.Equal(r.Metrics.Images, back.Images);
        Assert.Equal(r.Metrics.Instances, back.Instances);
        Assert.InRange(Math.Abs(r.Metrics.Map50 - back.Map50), 0, 1e-3);
        Assert.InRange(Math.Abs(r.Metrics.Map - back.Map), 0, 1e-3);
        Assert.InRange(Math.Abs(r.Metrics.MeanPrecision - back.MeanPrecision), 0, 1e-3);
        Assert.InRange(Math.Abs(r.Metrics.MeanRecall - back.MeanRecall), 0, 1e-3);

        output.WriteLine($"validator mAP50 {r.Metrics.Map50:F5} mAP50-95 {r.Metrics.Map:F5} P {r.Metrics.MeanPrecision:F5} R {r.Metrics.MeanRecall:F5}");
        output.WriteLine($"from json mAP50 {back.Map50:F5} mAP50-95 {back.Map:F5} P {back.MeanPrecision:F5} R {back.MeanRecall:F5}");
        output.WriteLine($"pycocotools-style mAP50 {r.Coco?.Map50:F5} mAP50-95 {r.Coco?.Map:F5}");
        // The pycocotools-definition numbers of the same file: close to ours, a little higher
        // (no trapezoid tail, crowd regions absorb detections).
        Assert.NotNull(r.Coco);
        Assert.InRange(r.Coco!.Map50 - r.Metrics.Map50, -0.02, 0.05);
        Assert.InRange(r.Coco.Map - r.Metrics.Map, -0.02, 0.05);
    }

    static DetectionModel TinyDetectingModel(int nc)
    {
        var m = TinyModels.WithStatistics(nc, seed: 1);
        // A fresh head predicts almost nothing above conf 0.001 (prior bias); zero the class bias so it detects plenty.
        using (no_grad())
            foreach (var (name, p) in m.named_parameters())
                if (name.Contains(".cv3.") && name.EndsWith(".2.bias")) p.zero_();
        return m;
    }

    [SkippableFact]
    public void ModelInMemoryWritesEveryFileAndLosses()
    {
        var config = DatasetConfig.Load(TestPaths.Asset("coco8.yaml"));
        var dir = _tmp.NewDir("strix-val");
        using var model = TinyDetectingModel(80);
        using var loader = DataLoader.Create(config, "val", DataLoaderOptions.ForValidation(imgsz: 160, batch: 2, workers: 0), _ => { });
        var lines = new List<string>();
        var v = new DetectionValidator(config.Names, new ValidatorOptions { SaveDir = dir, SaveJson = true, Log = lines.Add });
        int calls = 0;
        var r = v.Run(model, loader, (raw, batch) =>
        {
            calls++;
            Assert.Equal(3, raw.Length); // the raw per-level head maps reach the loss
            return tensor(new float[] { 1, 2, 3 });
        });
        Assert.Equal(2, calls);
        Assert.Equal(new Dictionary<string, double> { ["val/box_loss"] = 1, ["val/cls_loss"] = 2, ["val/dfl_loss"] = 3 }, r.Losses);
        Assert.Equal(4, r.Metrics.Images);
        Assert.Equal(17, r.Metrics.Instances);
        foreach (var f in new[] { "PR_curve.png", "F1_curve.png", "P_curve.png", "R_curve.png", "confusion_matrix.png", "confusion_matrix_normalized.png",
                     "val_batch0_labels.jpg", "val_batch0_pred.jpg", "val_batch1_labels.jpg", "val_batch1_pred.jpg", "predictions.json" })
            Assert.True(File.Exists(Path.Combine(dir, f)), f);
        Assert.True(CocoPredictionsReader.Read(Path.Combine(dir, "predictions.json")).Count > 0);
        Assert.True(r.Speed.Inference > 0);
        Assert.Contains(lines, l => l.TrimStart().StartsWith("Class"));
        Assert.Contains(lines, l => l.StartsWith("Speed:"));
        Assert.False(model.training); // Run leaves an eval-mode model in eval mode
    }

    [SkippableFact]
    public void ValidationLossesFromTheDetectionLoss()
    {
        // How a trainer plugs its loss in: items (box, cls, dfl) of DetectionLoss on the raw head maps.
        var config = DatasetConfig.Load(TestPaths.Asset("coco8.yaml"));
        using var model = TinyDetectingModel(80);
        var lossFn = new Strix.Loss.DetectionLoss(model);
        using var loader = DataLoader.Create(config, "val", DataLoaderOptions.ForValidation(imgsz: 160, batch: 4, workers: 0), _ => { });
        var v = new DetectionValidator(config.Names, new ValidatorOptions { Plots = false, Log = null });
        var r = v.Run(model, loader, (raw, b) =>
        {
            var (loss, items) = lossFn.Compute(raw, b.BatchIdx, b.Cls, b.Bboxes);
            loss.Dispose();
            return items;
        });
        Assert.Equal(new[] { "val/box_loss", "val/cls_loss", "val/dfl_loss" }, r.Losses.Keys);

        // The same batches through the model and the loss by hand: the validator's values are their batch means.
        var sums = new double[3];
        int batches = 0;
        model.eval();
        using (no_grad())
            foreach (var b in loader)
                using (b)
                using (var scope = NewDisposeScope())
                {
                    var (loss, items) = lossFn.Compute(model.call(b.ModelInput(CPU)), b.BatchIdx, b.Cls, b.Bboxes);
                    var it = items.to(ScalarType.Float64).data<double>().ToArray();
                    for (int k = 0; k < 3; k++) sums[k] += it[k];
                    batches++;
                }
        Assert.Equal(loader.Count, batches);
        Assert.Equal(sums[0] / batches, r.Losses["val/box_loss"], 9);
        Assert.Equal(sums[1] / batches, r.Losses["val/cls_loss"], 9);
        Assert.Equal(sums[2] / batches, r.Losses["val/dfl_loss"], 9);
        Assert.True(r.Losses.Values.All(x => x > 0)); // a fresh model is wrong about something
        Assert.Equal(r.Losses["val/box_loss"], r.ToDictionary()["val/box_loss"]);
    }

    [SkippableFact]
    public void OnnxRuntimeValidationAgreesWithTorchSharp()
    {
        var config = DatasetConfig.Load(TestPaths.Asset("coco8.yaml"));
        var dir = _tmp.NewDir("strix-valonnx");
        var onnx = Path.Combine(dir, "tiny.onnx");
        using var model = TinyDetectingModel(80);
        Strix.Export.OnnxExporter.Export(model, onnx, new Strix.Export.OnnxExportOptions { ImageSize = 160, Names = config.Names });
        DetectionResults Validate(IDetectionBackend backend)
        {
            using var loader = DataLoader.Create(config, "val", DataLoaderOptions.ForValidation(imgsz: 160, batch: 4, workers: 0, rect: false), _ => { });
            return new DetectionValidator(config.Names, new ValidatorOptions { Plots = false, Log = null }).Run(backend, loader).Metrics;
        }
        var torchResult = Validate(new TorchBackend(model, config.Names, 160));
        using var ort = Strix.Export.OnnxRuntimeBackend.Open(onnx);
        var ortResult = Validate(ort);
        output.WriteLine($"torch mAP50 {torchResult.Map50:F6} P {torchResult.MeanPrecision:F6}; ort mAP50 {ortResult.Map50:F6} P {ortResult.MeanPrecision:F6}");
        Assert.Equal(torchResult.Instances, ortResult.Instances);
        Assert.InRange(Math.Abs(torchResult.Map50 - ortResult.Map50), 0, 1e-3);
        Assert.InRange(Math.Abs(torchResult.Map - ortResult.Map), 0, 1e-3);

        // The CLI takes the .onnx through ONNX Runtime (fixed 160×160 input: rect off, imgsz from the file).
        int rc = new ValCommand().Run(new[]
        {
            $"model={onnx}", $"data={TestPaths.Asset("coco8.yaml")}", "imgsz=640", "batch=4", "workers=0", $"project={dir}", "name=val",
        });
        Assert.Equal(0, rc);
        Assert.True(File.Exists(Path.Combine(dir, "val", "PR_curve.png")));
    }

    [SkippableFact]
    public void ValCommandRunsOnAWeightsFile()
    {
        var dir = _tmp.NewDir("strix-valcli");
        var config = DatasetConfig.Load(TestPaths.Asset("coco8.yaml"));
        var weights = Path.Combine(dir, "tiny.safetensors");
        using (var model = TinyDetectingModel(80))
            WeightsFile.Save(model, weights, ModelMetadata.For(model, config.Names, 160));
        int rc = new ValCommand().Run(new[]
        {
            $"model={weights}", $"data={TestPaths.Asset("coco8.yaml")}", "imgsz=160", "batch=4", "workers=0",
            "save_json=true", $"project={dir}", "name=val",
        });
        Assert.Equal(0, rc);
        var run = Path.Combine(dir, "val");
        foreach (var f in new[] { "PR_curve.png", "confusion_matrix.png", "val_batch0_labels.jpg", "val_batch0_pred.jpg", "predictions.json" })
            Assert.True(File.Exists(Path.Combine(run, f)), f);

        // A second run goes to val2; a class-count mismatch is refused with a clear message.
        Assert.Equal(0, new ValCommand().Run(new[] { $"model={weights}", $"data={TestPaths.Asset("coco8.yaml")}", "imgsz=160", "batch=4", "workers=0", "plots=false", $"project={dir}", "name=val" }));
        Assert.True(Directory.Exists(Path.Combine(dir, "val2")));
        var wrong = Path.Combine(dir, "three.safetensors");
        using (var m3 = TinyModels.WithStatistics(3)) WeightsFile.Save(m3, wrong, ModelMetadata.For(m3, new[] { "a", "b", "c" }, 160));
        var e = Assert.Throws<ArgumentException>(() => new ValCommand().Run(new[] { $"model={wrong}", $"data={TestPaths.Asset("coco8.yaml")}", "imgsz=160", $"project={dir}", "name=refused" }));
        Assert.Contains("3 classes", e.Message);
        Assert.False(Directory.Exists(Path.Combine(dir, "refused")), "a refused model must leave no run folder behind");
    }
}
