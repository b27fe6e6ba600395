using Strix.Export;
using Strix.Inference;
using Strix.IO.Onnx;
using Strix.Models;
using Strix.Models.Architecture;
using static TorchSharp.torch;

namespace Strix.Tests.Export;

/// <summary>Segmentation models through ONNX: our two-output export against TorchSharp, and Ultralytics' -seg layout in ONNX Runtime.</summary>
public class SegmentationExportTests : IDisposable
{
    readonly string _dir = TestPaths.NewTempDir("strix-onnx-seg");
    public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

    static DetectionModel MakeSeg(long seed = 3) => ExportTestModels.Make(nc: 3, seed: seed, spec: ModelCatalog.Builtin("yolov8-seg"));

    /// <summary>Predictions and prototypes of a fused copy of <paramref name="model"/>.</summary>
    static (Tensor Pred, Tensor Proto) FusedPredictMasks(DetectionModel model, Tensor x)
    {
        using var copy = model.WithClasses(model.NumClasses);
        copy.load_state_dict(model.state_dict());
        copy.eval();
        copy.Fuse();
        using var _ = no_grad();
        return copy.PredictMasks(x);
    }

    [Fact]
    public void Static_export_has_both_outputs_and_matches_fused_TorchSharp()
    {
        using var m = MakeSeg();
        var p = Path.Combine(_dir, "seg.onnx");
        var proto = OnnxExporter.Export(m, p, new OnnxExportOptions { ImageSize = 64, Batch = 2, Names = new[] { "a", "b", "c" } });
        Assert.Equal("segment", proto.GetMetadata("task"));
        manual_seed(5);
        using var x = rand(2, 3, 64, 64);
        var (pred, protos) = FusedPredictMasks(m, x);
        using (pred) using (protos)
        using (var ort = OnnxRuntimeBackend.Open(p))
        {
            Assert.Equal("segment", ort.Task);
            Assert.Equal(32, ort.NumMasks);
            Assert.Equal(new[] { "a", "b", "c" }, ort.Names);
            var y = ort.ForwardOutputs(x);
            Assert.Equal(new long[] { 2, 4 + 3 + 32, 84 }, y[0].shape);
            Assert.Equal(new long[] { 2, 32, 16, 16 }, y[1].shape);
            Assert.True(ExportTestModels.MaxAbsDiff(pred, y[0]) <= 1e-3f, "output0");
            Assert.True(ExportTestModels.MaxAbsDiff(protos, y[1]) <= 1e-3f, "output1");
            foreach (var t in y) t.Dispose();
            Assert.Throws<NotSupportedException>(() => ort.Forward(x)); // one output would drop the masks
        }
    }

    [Fact]
    public void Dynamic_export_matches_at_two_sizes()
    {
        using var m = MakeSeg(seed: 8);
        var p = Path.Combine(_dir, "seg-dyn.onnx");
        OnnxExporter.Export(m, p, new OnnxExportOptions { ImageSize = 64, Dynamic = true });
        using var ort = OnnxRuntimeBackend.Open(p);
        foreach (var (b, h, w) in new[] { (1, 64, 64), (2, 96, 128) })
        {
            manual_seed(b + h + w);
            using var x = rand(b, 3, h, w);
            var (pred, protos) = FusedPredictMasks(m, x);
            var y = ort.ForwardOutputs(x);
            Assert.True(ExportTestModels.MaxAbsDiff(pred, y[0]) <= 1e-3f, $"{b}x{h}x{w} output0");
            Assert.True(ExportTestModels.MaxAbsDiff(protos, y[1]) <= 1e-3f, $"{b}x{h}x{w} output1");
            pred.Dispose(); protos.Dispose();
            foreach (var t in y) t.Dispose();
        }
    }

    [Fact]
    public void Ultralytics_seg_onnx_runs_and_predicts_the_masks_of_its_pt_checkpoint()
    {
        // tiny_yolov8_seg.onnx: torch.onnx.export of the fixture's -seg module tree (fused), output0/output1, Ultralytics metadata.
        var onnx = TestPaths.Fixture("ultralytics", "tiny_yolov8_seg.onnx");
        using var io = Strix.IO.Safetensors.Load(TestPaths.Fixture("ultralytics", "tiny_yolov8_seg_io.safetensors"));
        var t = io.ToDictionary();
        using (var ort = OnnxRuntimeBackend.Open(onnx))
        {
            Assert.Equal("segment", ort.Task);
            Assert.Equal(new[] { "scratch", "dent", "void" }, ort.Names);
            var y = ort.ForwardOutputs(t["images"]);
            Assert.True(ExportTestModels.MaxAbsDiff(t["pred"], y[0]) <= 1e-3f, "output0");
            Assert.True(ExportTestModels.MaxAbsDiff(t["proto"], y[1]) <= 1e-3f, "output1");
            foreach (var o in y) o.Dispose();
        }

        // The same picture through Yolo with the .onnx and with the .pt: the same detections and masks.
        using var images = (t["images"] * 255).round().to(ScalarType.Byte).permute(0, 2, 3, 1).contiguous();
        var image = new Strix.Data.RgbImage(64, 64, images.data<byte>().ToArray());
        var options = new PredictOptions { Conf = 0.01 };
        using var fromOnnx = Yolo.Load(onnx);
        using var fromPt = Yolo.Load(TestPaths.Fixture("ultralytics", "tiny_yolov8_seg.pt"));
        var a = fromOnnx.Predict(image, options);
        var b = fromPt.Predict(image, options);
        Assert.True(a.Count > 0, "the fixture's random weights still give detections at conf 0.01");
        Assert.Equal(a.Count, b.Count);
        Assert.Equal(a.Cls, b.Cls);
        Assert.NotNull(a.Masks);
        for (int i = 0; i < a.Count; i++)
        {
            var ma = a.Masks![i].ToArray(); var mb = b.Masks![i].ToArray();
            int inter = ma.Zip(mb).Count(z => z.First != 0 && z.Second != 0), union = ma.Zip(mb).Count(z => z.First != 0 || z.Second != 0);
            Assert.True(union == 0 || inter >= 0.98 * union, $"detection {i}: mask IoU {inter}/{union}");
        }
    }

    [PythonOnnxFact]
    public void Seg_export_passes_onnx_full_check()
    {
        using var m = MakeSeg();
        var p = Path.Combine(_dir, "check.onnx");
        OnnxExporter.Export(m, p, new OnnxExportOptions { ImageSize = 64, Dynamic = true });
        var (code, output) = PythonOnnx.Run("""
import sys, onnx
m = onnx.load(sys.argv[1])
onnx.checker.check_model(m, full_check=True)
print("OK", [o.name for o in m.graph.output], "ConvTranspose" in {n.op_type for n in m.graph.node})
""", p);
        Assert.True(code == 0, output);
        Assert.Equal("OK ['output0', 'output1'] True", output.Trim());
    }
}
