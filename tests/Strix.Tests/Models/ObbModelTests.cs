using Strix.Eval;
using Strix.Export;
using Strix.Inference;
using Strix.Models;
using Strix.Models.Architecture;
using Strix.Models.Import;
using Strix.Nn;
using Strix.Tasks.Obb;
using Strix.Tests.Export;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Strix.Tests.Models;

/// <summary>OBB models: sizes, the rotated-box maths (decode, corners, ProbIoU, NMS), export, import, prediction.</summary>
public class ObbModelTests(ITestOutputHelper output) : IDisposable
{
    readonly string _dir = TestPaths.NewTempDir("strix-obb");
    public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

    [Theory]
    [InlineData("yolov8n-obb", 3_228_867L)]
    [InlineData("yolov8s-obb", 11_452_739L)]
    [InlineData("yolov8m-obb", 26_463_235L)]
    [InlineData("yolov8l-obb", 44_540_355L)]
    [InlineData("yolov8x-obb", 69_555_651L)]
    [InlineData("yolo11n-obb", 2_695_747L)]
    public void ParameterCountsEqualUltralytics(string name, long expected)
    {
        using var m = DetectionModel.Create(name, 80);
        Assert.Equal("obb", m.Task);
        Assert.Equal(expected, m.ParameterCount());
    }

    static Tensor Box(params float[] v) => tensor(v, new long[] { v.Length / 5, 5 });

    [Fact]
    public void Rotated_distances_move_the_centre_along_the_rotated_axes()
    {
        // l, t, r, b = 1, 1, 3, 1: the centre moves (r − l)/2 = 1 along the width axis; at 90° that is straight down.
        using var dist = tensor(new float[] { 1, 1, 3, 1 }, new long[] { 1, 4, 1 });
        using var anchor = tensor(new float[] { 10, 20 }, new long[] { 1, 2, 1 });
        using var angle = full(new long[] { 1, 1, 1 }, (float)(Math.PI / 2));
        using var box = OBB.DistToRotatedBox(dist, angle, anchor);
        var v = box.data<float>().ToArray();
        Assert.Equal(10, v[0], 5);
        Assert.Equal(21, v[1], 5);
        Assert.Equal(new[] { 4f, 2f }, v[2..]);
        using var raw = zeros(1); // sigmoid(0) = ½ → (½ − ¼)·π = π/4
        using var a = OBB.Angle(raw);
        Assert.Equal(Math.PI / 4, a.item<float>(), 5);
    }

    [Fact]
    public void Corners_regular_form_and_probiou_on_hand_made_boxes()
    {
        using var b = Box(10, 20, 4, 2, (float)(Math.PI / 2));
        using var corners = RotatedBoxes.Corners(b);
        // Half-width (0, 2) along +y, half-height (−1, 0): centre + both, + w − h, − both, − w + h.
        Assert.Equal(new[] { 9f, 22f, 11f, 22f, 11f, 18f, 9f, 18f }, corners.data<float>().ToArray(), new Near(1e-5f));
        Assert.Equal(new[] { 9f, 22f, 11f, 22f, 11f, 18f, 9f, 18f }, new OrientedBox(10, 20, 4, 2, (float)(Math.PI / 2)).Corners(), new Near(1e-5f));

        // w < h swaps and turns by π/2; the angle ends in [0, π).
        using var r = RotatedBoxes.Regularize(Box(0, 0, 2, 4, 0, 0, 0, 4, 2, (float)(-Math.PI / 4)));
        Assert.Equal(new[] { 0f, 0f, 4f, 2f, (float)(Math.PI / 2), 0f, 0f, 4f, 2f, (float)(3 * Math.PI / 4) }, r.data<float>().ToArray(), new Near(1e-5f));

        // ProbIoU: 1 for the same box and for a square turned by 90°, falls with distance, symmetric.
        using var boxes = Box(0, 0, 4, 2, 0, 0, 0, 2, 4, (float)(Math.PI / 2), 0, 0, 2, 2, 0, 0, 0, 2, 2, (float)(Math.PI / 2), 1, 0, 4, 2, 0, 30, 0, 4, 2, 0);
        using var iou = RotatedBoxes.ProbIou(boxes, boxes);
        var m = iou.data<float>().ToArray();
        float At(int i, int j) => m[i * 6 + j];
        Assert.Equal(1f, At(0, 0), 3);
        Assert.Equal(1f, At(0, 1), 3); // the same rectangle, written the other way
        Assert.Equal(1f, At(2, 3), 3); // a square turned by 90°
        Assert.InRange(At(0, 4), 0.5f, 0.99f); // shifted by a quarter of its width
        Assert.InRange(At(0, 5), 0f, 0.01f);   // far away
        Assert.Equal(At(0, 4), At(4, 0), 5);
        Assert.True(At(0, 2) < At(0, 0) && At(0, 2) > 0.3f); // the square inside the rectangle
    }

    [Fact]
    public void Rotated_nms_drops_the_weaker_of_two_overlapping_boxes_and_keeps_the_rest_best_first()
    {
        using var boxes = Box(0, 0, 10, 4, 0.3f, 0.5f, 0, 10, 4, 0.3f, 50, 50, 10, 4, 1f);
        using var scores = tensor(new float[] { 0.6f, 0.9f, 0.7f });
        Assert.Equal(new long[] { 1, 2 }, RotatedBoxes.Nms(boxes, scores, 0.7));
        Assert.Equal(new long[] { 1, 2, 0 }, RotatedBoxes.Nms(boxes, scores, 0.999)); // nothing overlaps that much
    }

    [Fact]
    public void Export_matches_TorchSharp_in_ONNX_Runtime_fixed_and_dynamic()
    {
        manual_seed(6);
        using var m = new DetectionModel(ModelCatalog.Builtin("yolov8-obb"), ExportTestModels.Tiny, 2);
        m.eval();
        using var x = rand(1, 3, 64, 96);
        using var pred = m.PredictObb(x);
        Assert.Equal(new long[] { 1, 4 + 2 + 1, 8 * 12 + 4 * 6 + 2 * 3 }, pred.shape);
        foreach (var dynamic in new[] { false, true })
        {
            var p = Path.Combine(_dir, $"obb-{dynamic}.onnx");
            var proto = OnnxExporter.Export(m, p, new OnnxExportOptions { Height = 64, Width = 96, Dynamic = dynamic });
            Assert.Equal("obb", proto.GetMetadata("task"));
            using var ort = OnnxRuntimeBackend.Open(p);
            Assert.Equal("obb", ort.Task);
            using var y = ort.Forward(x);
            float diff = ExportTestModels.MaxAbsDiff(pred, y);
            output.WriteLine($"dynamic={dynamic}: max abs diff {diff:E2}");
            Assert.True(diff <= 1e-3f, $"ONNX Runtime differs by {diff}");
        }
        Assert.Throws<NotSupportedException>(() => m.Predict(x));
    }

    [Fact]
    public void An_Ultralytics_obb_checkpoint_imports_and_its_onnx_runs_with_PyTorch_outputs()
    {
        var (model, meta, report) = UltralyticsImporter.Load(TestPaths.Fixture("ultralytics", "tiny_yolov8_obb.pt"));
        using (model)
        using (var reference = Strix.IO.Safetensors.Load(TestPaths.Fixture("ultralytics", "tiny_yolov8_obb_io.safetensors")))
        {
            Assert.True(report.Complete);
            Assert.Equal("obb", model.Task);
            Assert.Equal("obb", meta.Task);
            Assert.Equal(new[] { "plane", "ship", "vehicle" }, meta.Names);
            var r = reference.ToDictionary();
            using var pred = model.PredictObb(r["images"]);
            float diff = TinyModels.MaxAbsDiff(pred, r["pred"]);
            output.WriteLine($"obb import: max abs diff vs PyTorch {diff:E2}");
            Assert.True(diff <= 1e-3f, $"differs from PyTorch by {diff}");
            using var ort = OnnxRuntimeBackend.Open(TestPaths.Fixture("ultralytics", "tiny_yolov8_obb.onnx"));
            Assert.Equal("obb", ort.Task);
            using var y = ort.Forward(r["images"]);
            Assert.True(TinyModels.MaxAbsDiff(y, r["pred"]) <= 1e-3f);
        }
    }

    [Fact]
    public void Postprocessing_keeps_rotated_boxes_in_regular_form_and_maps_them_back_through_the_letterbox()
    {
        // Rows: cx cy w h | 2 class scores | angle. Anchor 0: class 1 at 0.8, a tall box (w < h); anchor 1 overlaps it with 0.5;
        // anchor 2 is below conf.
        float[][] anchors =
        {
            new float[] { 40, 30, 8, 20, 0.1f, 0.8f, 0.2f },
            new float[] { 41, 30, 8, 20, 0.1f, 0.5f, 0.2f },
            new float[] { 10, 10, 4, 4, 0.1f, 0.1f, 0f },
        };
        var data = new float[7 * 3];
        for (int a = 0; a < 3; a++) for (int r = 0; r < 7; r++) data[r * 3 + a] = anchors[a][r];
        using var raw = tensor(data, new long[] { 1, 7, 3 });
        var post = new ObbPostprocessor(new PredictOptions { Conf = 0.25, Iou = 0.7 });
        var frame = new InputFrame(0.5, 0.5, 0, 5, 200, 150); // original = (input − pad) / 0.5
        var p = post.Postprocess(new[] { raw }, new[] { frame }, new[] { "a", "b" }).Single();
        var d = Assert.Single(p.Detections);
        Assert.Equal(1, d.ClassId);
        Assert.Equal(0.8f, d.Confidence, 5);
        var ob = Assert.Single(p.OrientedBoxes!);
        // Regular form: w ≥ h, the tall box turned by π/2: 40 × 16 at angle 0.2 + π/2, centred at (80, 50).
        Assert.Equal(80f, ob.CenterX, 4);
        Assert.Equal(50f, ob.CenterY, 4);
        Assert.Equal((40f, 16f), (ob.Width, ob.Height));
        Assert.Equal(0.2f + MathF.PI / 2, ob.Angle, 4);
        Assert.Equal(ob.Bounds(), d.Box);
        var results = new Results(null, 150, 200, new[] { "a", "b" }, p.Detections, default, Strix.Data.RgbImage.Filled(200, 150, 0, 0, 0)) { OrientedBoxes = p.OrientedBoxes };
        var fields = results.ToTxt().Trim().Split(' ');
        Assert.Equal(9, fields.Length); // class and four normalised corners
        Assert.Equal("1", fields[0]);
        var c = ob.Corners();
        Assert.Equal(c[0] / 200, float.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture), 5);
        Assert.Contains(results.Plot().Pixels, v => v != 0);
    }

    sealed class Near(float eps) : IEqualityComparer<float>
    {
        public bool Equals(float a, float b) => Math.Abs(a - b) <= eps;
        public int GetHashCode(float f) => 0;
    }
}
