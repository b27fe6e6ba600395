using Strix.Export;
using Strix.Models;
using Strix.Models.Architecture;
using static TorchSharp.torch;

namespace Strix.Tests.Export;

/// <summary>YOLO11 (attention, depth-wise convs, C3k blocks) and the 4-level variants through ONNX Runtime.</summary>
public class Yolo11ExportTests : IDisposable
{
    readonly string _dir = TestPaths.NewTempDir("strix-onnx11");
    public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

    /// <summary>yolo11's rows at width 1/8: the attention stage keeps 32 channels (one head), every module type stays.</summary>
    static readonly YoloScale Tiny11 = new("t", 0.5, 0.125, 1024);
    /// <summary>The m-scale name, so C3k2 builds its C3k blocks.</summary>
    static readonly YoloScale TinyM = new("m", 0.5, 0.125, 512);

    string Export(DetectionModel m, OnnxExportOptions o, string name)
    {
        var p = Path.Combine(_dir, name);
        OnnxExporter.Export(m, p, o);
        return p;
    }

    [Theory]
    [InlineData("yolo11", "n")]
    [InlineData("yolo11", "t")]
    [InlineData("yolo11", "m")]
    [InlineData("yolov8-p6", "t")]
    [InlineData("yolov8-p2", "t")]
    public void Static_export_matches_fused_TorchSharp(string family, string scale)
    {
        var s = scale switch { "m" => TinyM, "t" => Tiny11, _ => ModelCatalog.Builtin(family).ScaleFor(scale) };
        using var m = ExportTestModels.Make(nc: 3, seed: 2, scale: s, spec: ModelCatalog.Builtin(family));
        int size = m.MaxStride * 2;
        manual_seed(4);
        using var x = rand(2, 3, size, size);
        var p = Export(m, new OnnxExportOptions { ImageSize = size, Batch = 2 }, $"{family}-{scale}.onnx");
        using var expected = ExportTestModels.FusedPredict(m, x);
        using var ort = OnnxRuntimeBackend.Open(p);
        using var y = ort.Forward(x);
        Assert.Equal(expected.shape, y.shape);
        float diff = ExportTestModels.MaxAbsDiff(expected, y);
        Assert.True(diff <= 1e-3f, $"{family} {scale}: max abs diff {diff}");
    }

    [Fact]
    public void Dynamic_yolo11_export_matches_at_two_sizes()
    {
        using var m = ExportTestModels.Make(nc: 2, seed: 7, scale: Tiny11, spec: ModelCatalog.Yolo11);
        var p = Export(m, new OnnxExportOptions { ImageSize = 64, Dynamic = true }, "yolo11-dyn.onnx");
        using var ort = OnnxRuntimeBackend.Open(p);
        foreach (var (b, h, w) in new[] { (1, 64, 64), (3, 96, 160) })
        {
            manual_seed(b + h + w);
            using var x = rand(b, 3, h, w);
            using var expected = ExportTestModels.FusedPredict(m, x);
            using var y = ort.Forward(x);
            float diff = ExportTestModels.MaxAbsDiff(expected, y);
            Assert.True(diff <= 1e-3f, $"{b}x{h}x{w}: max abs diff {diff}");
        }
    }

    [PythonOnnxFact]
    public void Yolo11_export_passes_onnx_full_check()
    {
        using var m = ExportTestModels.Make(nc: 3, scale: Tiny11, spec: ModelCatalog.Yolo11);
        var p = Export(m, new OnnxExportOptions { ImageSize = 64, Dynamic = true }, "check.onnx");
        var (code, output) = PythonOnnx.Run("""
import sys, onnx
m = onnx.load(sys.argv[1])
onnx.checker.check_model(m, full_check=True)
print("OK", sorted({n.op_type for n in m.graph.node} & {"MatMul", "Softmax", "Transpose", "Reshape"}))
""", p);
        Assert.True(code == 0, output);
        Assert.Equal("OK ['MatMul', 'Reshape', 'Softmax', 'Transpose']", output.Trim());
    }
}
