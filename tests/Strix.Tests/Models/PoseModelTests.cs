using Strix.Export;
using Strix.Inference;
using Strix.Models;
using Strix.Models.Architecture;
using Strix.Models.Import;
using Strix.Nn;
using Strix.Tasks.Pose;
using Strix.Tests.Export;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Strix.Tests.Models;

/// <summary>Pose models: sizes, the keypoint decode, ONNX export and ONNX Runtime, Ultralytics import, prediction.</summary>
public class PoseModelTests(ITestOutputHelper output) : IDisposable
{
    readonly string _dir = TestPaths.NewTempDir("strix-pose");
    public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

    // yolov8-pose at its file's nc=1, yolo11-pose at its file's nc=80 (Ultralytics' YAML defaults), kpt_shape [17, 3].
    [Theory]
    [InlineData("yolov8n-pose", 1, 3_295_470L)]
    [InlineData("yolov8s-pose", 1, 11_626_046L)]
    [InlineData("yolov8m-pose", 1, 26_464_462L)]
    [InlineData("yolov8l-pose", 1, 44_489_196L)]
    [InlineData("yolov8x-pose", 1, 69_491_724L)]
    [InlineData("yolo11n-pose", 80, 2_908_507L)]
    public void ParameterCountsEqualUltralytics(string name, int nc, long expected)
    {
        using var m = DetectionModel.Create(name, nc);
        Assert.Equal("pose", m.Task);
        Assert.Equal(expected, m.ParameterCount());
    }

    [Fact]
    public void Keypoints_decode_as_two_raw_plus_the_cell_times_the_stride()
    {
        using var head = new Pose(1, new[] { 2, 3 }, new[] { 16 }, new float[] { 8 });
        // One level of 1×2 cells at stride 8: anchors (0.5, 0.5) and (1.5, 0.5).
        using var anchors = tensor(new float[] { 0.5f, 0.5f, 1.5f, 0.5f }, new long[] { 2, 2 });
        using var strides = full(new long[] { 2, 1 }, 8f);
        // raw [1, K·D = 6, A = 2]: keypoint 0 = (0.25, −0.5, 0), keypoint 1 = (1, 1, 2) at both anchors.
        using var raw = tensor(new float[] { 0.25f, 0.25f, -0.5f, -0.5f, 0, 0, 1, 1, 1, 1, 2, 2 }, new long[] { 1, 6, 2 });
        using var y = head.DecodeKeypoints(raw, anchors, strides);
        var v = y.data<float>().ToArray();
        // x = (2·raw + cell_x)·8 with cell_x 0 and 1; y = (2·raw + 0)·8; visibility sigmoid.
        Assert.Equal(new[] { 4f, 12f, -8f, -8f, 0.5f, 0.5f, 16f, 24f, 16f, 16f, (float)(1 / (1 + Math.Exp(-2))), (float)(1 / (1 + Math.Exp(-2))) }, v,
            new Tolerance(1e-6f));
    }

    [Fact]
    public void Output_rows_are_boxes_scores_and_keypoints_and_the_export_matches_in_ONNX_Runtime()
    {
        manual_seed(3);
        using var m = new DetectionModel(ModelCatalog.Builtin("yolov8-pose"), Strix.Tests.Export.ExportTestModels.Tiny, 2);
        m.eval();
        using var x = rand(1, 3, 64, 96);
        using var pred = m.PredictPose(x);
        int anchors = 8 * 12 + 4 * 6 + 2 * 3;
        Assert.Equal(new long[] { 1, 4 + 2 + 17 * 3, anchors }, pred.shape);
        foreach (var dynamic in new[] { false, true })
        {
            var p = Path.Combine(_dir, $"pose-{dynamic}.onnx");
            var proto = OnnxExporter.Export(m, p, new OnnxExportOptions { Height = 64, Width = 96, Dynamic = dynamic });
            Assert.Equal("pose", proto.GetMetadata("task"));
            Assert.Equal("[17, 3]", proto.GetMetadata("kpt_shape"));
            using var ort = OnnxRuntimeBackend.Open(p);
            Assert.Equal("pose", ort.Task);
            Assert.Equal(new[] { 17, 3 }, ort.KptShape);
            Assert.Equal(2, ort.Names.Count);
            using var y = ort.Forward(x);
            float diff = Strix.Tests.Export.ExportTestModels.MaxAbsDiff(pred, y);
            output.WriteLine($"dynamic={dynamic}: max abs diff {diff:E2}");
            Assert.True(diff <= 1e-3f, $"ONNX Runtime differs by {diff}");
        }
        Assert.Throws<NotSupportedException>(() => OnnxExporter.Build(m, new OnnxExportOptions { ImageSize = 64, Nms = true }));
        Assert.Throws<NotSupportedException>(() => m.Predict(x)); // the detection-only decode refuses it by name
    }

    [PythonOnnxFact]
    public void The_export_passes_the_onnx_checker()
    {
        manual_seed(4);
        using var m = new DetectionModel(ModelCatalog.Builtin("yolo11-pose"), Strix.Tests.Export.ExportTestModels.Tiny, 1);
        m.eval();
        var p = Path.Combine(_dir, "check.onnx");
        OnnxExporter.Export(m, p, new OnnxExportOptions { ImageSize = 64, Dynamic = true, Opset = 17 });
        const string check = """
import sys, onnx
m = onnx.load(sys.argv[1])
onnx.checker.check_model(m, full_check=True)
inf = onnx.shape_inference.infer_shapes(m, check_type=True, strict_mode=True)
out = inf.graph.output[0].type.tensor_type
print("OK", [d.dim_value if d.HasField("dim_value") else d.dim_param for d in out.shape.dim])
""";
        var (code, text) = Strix.Tests.Export.PythonOnnx.Run(check, p);
        Assert.True(code == 0, $"onnx.checker rejected it:\n{text}");
        Assert.Equal("OK ['batch', 56, 'anchors']", text.Trim()); // 4 + 1 + 17·3
    }

    [Fact]
    public void An_Ultralytics_pose_checkpoint_imports_whole_and_reproduces_PyTorch()
    {
        var (model, meta, report) = UltralyticsImporter.Load(TestPaths.Fixture("ultralytics", "tiny_yolov8_pose.pt"));
        using (model)
        using (var reference = Strix.IO.Safetensors.Load(TestPaths.Fixture("ultralytics", "tiny_yolov8_pose_io.safetensors")))
        {
            Assert.True(report.Complete);
            Assert.Equal("pose", model.Task);
            Assert.Equal("pose", meta.Task);
            var head = Assert.IsType<Pose>(model.Head);
            Assert.Equal((5, 3), (head.NumKeypoints, head.KeypointDims)); // the checkpoint's kpt_shape, from its yaml
            Assert.Equal(new[] { "part" }, meta.Names);
            var r = reference.ToDictionary();
            using var pred = model.PredictPose(r["images"]);
            float diff = TinyModels.MaxAbsDiff(pred, r["pred"]);
            output.WriteLine($"pose import: max abs diff vs PyTorch {diff:E2}");
            Assert.True(diff <= 1e-3f, $"differs from PyTorch by {diff}");
        }
    }

    [Fact]
    public void Ultralytics_pose_onnx_runs_and_predicts_the_keypoints_of_its_pt_checkpoint()
    {
        using var io = Strix.IO.Safetensors.Load(TestPaths.Fixture("ultralytics", "tiny_yolov8_pose_io.safetensors"));
        var r = io.ToDictionary();
        using var ort = OnnxRuntimeBackend.Open(TestPaths.Fixture("ultralytics", "tiny_yolov8_pose.onnx"));
        Assert.Equal("pose", ort.Task);
        Assert.Equal(new[] { 5, 3 }, ort.KptShape);
        using var y = ort.Forward(r["images"]);
        Assert.True(TinyModels.MaxAbsDiff(y, r["pred"]) <= 1e-3f);
        using var yolo = new Yolo(OnnxRuntimeBackend.Open(TestPaths.Fixture("ultralytics", "tiny_yolov8_pose.onnx")));
        var results = yolo.Predict(r["images"], new PredictOptions { Conf = 0.01 }).Single();
        Assert.NotNull(results.Keypoints);
        Assert.Equal(results.Count, results.Keypoints!.Count);
        Assert.Equal(5, results.Keypoints.NumKeypoints);
    }

    [Fact]
    public void Keypoints_are_kept_through_NMS_and_mapped_back_through_the_letterbox()
    {
        // Two anchors of one class: the second overlaps the first and scores lower, so NMS keeps the first with its keypoints.
        // Rows: cx cy w h | score | k0 (x y v) k1 (x y v).
        float[][] anchors =
        {
            new float[] { 50, 40, 20, 10, 0.9f, 30, 20, 0.8f, 70, 60, 0.2f },
            new float[] { 51, 40, 20, 10, 0.6f, 0, 0, 0, 0, 0, 0 },
        };
        var data = new float[11 * 2];
        for (int a = 0; a < 2; a++) for (int r = 0; r < 11; r++) data[r * 2 + a] = anchors[a][r];
        using var raw = tensor(data, new long[] { 1, 11, 2 });
        var post = new PosePostprocessor(new PredictOptions { Conf = 0.25, Iou = 0.7 }, new[] { 2, 3 });
        // The input was the original ×0.5 with 4 px of padding on top: original = (input − pad) / 0.5.
        var frame = new InputFrame(0.5, 0.5, 0, 4, 200, 160);
        var p = post.Postprocess(new[] { raw }, new[] { frame }, new[] { "part" }).Single();
        var d = Assert.Single(p.Detections);
        Assert.Equal(0.9f, d.Confidence, 5);
        Assert.Equal(new BoundingBox(80, 62, 120, 82), d.Box);
        var k = p.Keypoints!;
        Assert.Equal(1, k.Count);
        Assert.Equal(new[] { (60f, 32f, 0.8f), (140f, 112f, 0.2f) }, k[0]);
        var results = new Results(null, 160, 200, new[] { "part" }, p.Detections, default, Strix.Data.RgbImage.Filled(200, 160, 0, 0, 0)) { Keypoints = k };
        Assert.Equal("0 0.5 0.45 0.2 0.125 0.3 0.2 0.8 0.7 0.7 0.2\n", results.ToTxt());
        var drawn = results.Plot();
        Assert.Contains(drawn.Pixels, b => b != 0); // the box and the confident keypoint are drawn
    }

    sealed class Tolerance(float eps) : IEqualityComparer<float>
    {
        public bool Equals(float a, float b) => Math.Abs(a - b) <= eps;
        public int GetHashCode(float f) => 0;
    }
}
