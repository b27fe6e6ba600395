using Strix.Data;
using Strix.Export;
using Strix.Inference;
using Strix.IO.Onnx;
using Strix.Models;
using Strix.Models.Architecture;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Strix.Tests.Export;

/// <summary>Classifiers through ONNX: Ultralytics' -cls layout (probabilities [B, nc]) against TorchSharp, in ONNX Runtime and the checker.</summary>
public class ClassificationExportTests : IDisposable
{
    readonly string _dir = TestPaths.NewTempDir("strix-onnx-cls");
    public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

    /// <summary>A narrow yolov8-cls in eval mode with random batch-norm statistics, so folding them matters.</summary>
    static DetectionModel MakeClassifier(long seed = 3)
    {
        manual_seed(seed);
        var m = new DetectionModel(ModelCatalog.Builtin("yolov8-cls"), ExportTestModels.Tiny, 3);
        using (no_grad())
            foreach (var bn in m.modules().OfType<BatchNorm2d>())
            {
                bn.running_mean!.copy_(randn_like(bn.running_mean) * 0.2);
                bn.running_var!.copy_(rand_like(bn.running_var) + 0.5);
                bn.weight!.copy_(rand_like(bn.weight) + 0.5);
                bn.bias!.copy_(randn_like(bn.bias) * 0.2);
            }
        m.eval();
        return m;
    }

    static Tensor Probabilities(DetectionModel m, Tensor x)
    {
        using var _ = no_grad();
        return m.PredictClasses(x);
    }

    [Fact]
    public void Static_export_gives_the_probabilities_of_TorchSharp()
    {
        using var m = MakeClassifier();
        var p = Path.Combine(_dir, "cls.onnx");
        var proto = OnnxExporter.Export(m, p, new OnnxExportOptions { ImageSize = 64, Batch = 2, Names = new[] { "ok", "scratch", "dent" } });
        Assert.Equal("classify", proto.GetMetadata("task"));
        manual_seed(5);
        using var x = rand(2, 3, 64, 64);
        using var expected = Probabilities(m, x);
        using var ort = OnnxRuntimeBackend.Open(p);
        Assert.Equal("classify", ort.Task);
        Assert.Equal(new[] { "ok", "scratch", "dent" }, ort.Names);
        Assert.Equal(64, ort.ImageSize);
        using var y = ort.Forward(x);
        Assert.Equal(new long[] { 2, 3 }, y.shape);
        Assert.True(ExportTestModels.MaxAbsDiff(expected, y) <= 1e-4f);
        using var sums = y.sum(1);
        Assert.True(sums.allclose(ones(2), 1e-5, 1e-5));
        // The fixed input refuses another size (a classifier takes any size only when exported dynamic).
        Assert.Throws<ArgumentException>(() => ort.Forward(rand(2, 3, 96, 96)));
    }

    [Fact]
    public void Dynamic_export_matches_at_sizes_that_are_not_stride_multiples()
    {
        using var m = MakeClassifier(seed: 8);
        var p = Path.Combine(_dir, "cls-dyn.onnx");
        OnnxExporter.Export(m, p, new OnnxExportOptions { ImageSize = 64, Dynamic = true });
        using var ort = OnnxRuntimeBackend.Open(p);
        foreach (var (b, h, w) in new[] { (1, 64, 64), (3, 80, 48), (2, 50, 70) })
        {
            manual_seed(b + h + w);
            using var x = rand(b, 3, h, w);
            using var expected = Probabilities(m, x);
            using var y = ort.Forward(x);
            Assert.True(ExportTestModels.MaxAbsDiff(expected, y) <= 1e-4f, $"{b}x{h}x{w}");
        }
    }

    [Fact]
    public void Prediction_through_ONNX_Runtime_equals_prediction_through_TorchSharp_and_nms_is_refused()
    {
        using var m = MakeClassifier(seed: 11);
        var names = new[] { "ok", "scratch", "dent" };
        var p = Path.Combine(_dir, "cls-pred.onnx");
        OnnxExporter.Export(m, p, new OnnxExportOptions { ImageSize = 64, Dynamic = true, Names = names });
        var rng = new Random(1);
        var image = new RgbImage(90, 70, Enumerable.Range(0, 90 * 70 * 3).Select(_ => (byte)rng.Next(256)).ToArray());
        using var torch = new Yolo(m, names, imageSize: 64);
        using var onnx = new Yolo(OnnxRuntimeBackend.Open(p));
        var a = torch.Predict(image).Probs!;
        var b = onnx.Predict(image).Probs!;
        Assert.Equal(a.Top5, b.Top5);
        for (int i = 0; i < 3; i++) Assert.Equal(a.Data[i], b.Data[i], 4);
        Assert.Throws<NotSupportedException>(() => OnnxExporter.Build(m, new OnnxExportOptions { ImageSize = 64, Nms = true }));
    }

    [Fact]
    public void Ultralytics_cls_onnx_runs_and_gives_the_probabilities_of_its_pt_checkpoint()
    {
        // tiny_yolov8_cls.onnx: torch.onnx.export of the fixture's ClassificationModel (fused), Ultralytics' metadata (stride 1).
        using var io = Strix.IO.Safetensors.Load(TestPaths.Fixture("ultralytics", "tiny_yolov8_cls_io.safetensors"));
        var r = io.ToDictionary();
        using var backend = OnnxRuntimeBackend.Open(TestPaths.Fixture("ultralytics", "tiny_yolov8_cls.onnx"));
        Assert.Equal("classify", backend.Task);
        Assert.Equal(new[] { "good", "scratch", "dent", "stain" }, backend.Names);
        Assert.Equal(64, backend.ImageSize);
        using var image = r["images"][..1];
        using var expected = r["probs"][..1];
        using var y = backend.Forward(image);
        Assert.True(ExportTestModels.MaxAbsDiff(expected, y) <= 1e-4f);
        using var yolo = new Yolo(OnnxRuntimeBackend.Open(TestPaths.Fixture("ultralytics", "tiny_yolov8_cls.onnx")));
        var results = yolo.Predict(image);
        Assert.Equal(expected.argmax(1).item<long>(), results.Single().Probs!.Top1);
    }

    const string Check = """
import sys, onnx
m = onnx.load(sys.argv[1])
onnx.checker.check_model(m, full_check=True)
inf = onnx.shape_inference.infer_shapes(m, check_type=True, strict_mode=True)
out = inf.graph.output[0].type.tensor_type
print("OK", out.elem_type, [d.dim_value if d.HasField("dim_value") else d.dim_param for d in out.shape.dim])
""";

    [PythonOnnxTheory]
    [InlineData(false, false, "OK 1 [1, 3]")]
    [InlineData(true, false, "OK 1 ['batch', 3]")]
    [InlineData(false, true, "OK 10 [1, 3]")]
    public void Exports_pass_the_onnx_checker(bool dynamic, bool half, string expected)
    {
        using var m = MakeClassifier();
        var p = Path.Combine(_dir, $"check-{dynamic}-{half}.onnx");
        OnnxExporter.Export(m, p, new OnnxExportOptions { ImageSize = 64, Dynamic = dynamic, Half = half, Opset = 17 });
        var (code, output) = PythonOnnx.Run(Check, p);
        Assert.True(code == 0, $"onnx.checker rejected it:\n{output}");
        Assert.Equal(expected, output.Trim());
    }
}
