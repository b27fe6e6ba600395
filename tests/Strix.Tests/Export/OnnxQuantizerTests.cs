using Strix.Export;
using Strix.IO.Onnx;
using static TorchSharp.torch;

namespace Strix.Tests.Export;

public class OnnxQuantizerTests : IDisposable
{
    readonly string _dir = TestPaths.NewTempDir("strix-int8");
    public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

    static readonly string[] Names = { "a", "b", "c" };

    static IEnumerable<(float[], long[])> Images(int batches, int batch, int size, int seed)
    {
        manual_seed(seed);
        for (int i = 0; i < batches; i++)
        {
            using var x = rand(batch, 3, size, size);
            yield return (Strix.Runtime.TensorArrays.Floats(x), x.shape);
        }
    }

    string Fp32(string name, bool dynamic = true, bool half = false)
    {
        using var m = ExportTestModels.Make(nc: 3, seed: 2);
        var path = Path.Combine(_dir, name);
        OnnxExporter.Export(m, path, new OnnxExportOptions { ImageSize = 64, Dynamic = dynamic, Half = half, Names = Names });
        return path;
    }

    [Theory]
    [InlineData(CalibrationMethod.MinMax)]
    [InlineData(CalibrationMethod.Percentile)]
    public void Int8_outputs_stay_close_to_float_and_the_decode_stays_float(CalibrationMethod method)
    {
        var fp32 = Fp32($"fp32-{method}.onnx");
        var int8 = Path.Combine(_dir, $"int8-{method}.onnx");
        var r = OnnxQuantizer.Quantize(fp32, int8, Images(3, 2, 64, 1), method);
        Assert.Equal(6, r.CalibrationImages);
        Assert.Equal(1, r.FloatConvs);                                   // the DFL expectation
        var proto = ModelProto.Load(int8);
        Assert.Equal(r.QuantizedConvs, proto.Graph!.Node.Count(n => n.OpType == "Conv" && n.Input[1].EndsWith("_dequantized")));
        Assert.Contains(proto.Graph.Initializer, t => t.DataType == OnnxDataType.Int8);
        Assert.DoesNotContain(proto.Graph.Initializer, t => t.DataType == OnnxDataType.Float && t.Dims.Count == 4 && t.Name.Contains("conv.weight") && !t.Name.Contains("dfl"));
        Assert.Equal("True", proto.GetMetadata("int8"));
        Assert.True(new FileInfo(int8).Length < new FileInfo(fp32).Length / 3);

        // On images like the calibration ones, boxes move by a few pixels at most and class scores by a few hundredths.
        using var a = OnnxRuntimeBackend.Open(fp32);
        using var b = OnnxRuntimeBackend.Open(int8);
        var (data, shape) = Images(1, 2, 64, 9).Single();
        using var x = tensor(data, shape);
        using var ya = a.Forward(x);
        using var yb = b.Forward(x);
        using var boxDiff = (ya.narrow(1, 0, 4) - yb.narrow(1, 0, 4)).abs();
        using var scoreDiff = (ya.narrow(1, 4, 3) - yb.narrow(1, 4, 3)).abs();
        Assert.True(boxDiff.mean().item<float>() < 2.0f, $"mean box error {boxDiff.mean().item<float>()} px");
        Assert.True(scoreDiff.max().item<float>() < 0.1f, $"max score error {scoreDiff.max().item<float>()}");
        using var nonzero = (ya - yb).abs().max();
        Assert.True(nonzero.item<float>() > 0);                           // it really is quantised
    }

    [Fact]
    public void A_segmentation_export_quantises_and_keeps_both_outputs()
    {
        using var m = Strix.Models.DetectionModel.Create("yolov8n-seg", 2);
        m.eval();
        var fp32 = Path.Combine(_dir, "seg.onnx");
        OnnxExporter.Export(m, fp32, new OnnxExportOptions { ImageSize = 64, Dynamic = true, Names = new[] { "a", "b" } });
        var int8 = Path.Combine(_dir, "seg-int8.onnx");
        var r = OnnxQuantizer.Quantize(fp32, int8, Images(1, 2, 64, 5));
        Assert.True(r.QuantizedConvs > 60, $"{r.QuantizedConvs} convolutions quantised");
        using var ort = OnnxRuntimeBackend.Open(int8);
        Assert.Equal("segment", ort.Task);
        var (data, shape) = Images(1, 1, 64, 6).Single();
        using var x = tensor(data, shape);
        var outs = ort.ForwardOutputs(x);
        Assert.Equal(new long[] { 1, 4 + 2 + 32, 84 }, outs[0].shape);
        Assert.Equal(new long[] { 1, 32, 16, 16 }, outs[1].shape);
        foreach (var o in outs) o.Dispose();
    }

    [PythonOnnxFact]
    public void The_qdq_graph_passes_onnx_s_checker()
    {
        var int8 = Path.Combine(_dir, "check.onnx");
        OnnxQuantizer.Quantize(Fp32("check-fp32.onnx", dynamic: false), int8, Images(1, 1, 64, 3));
        var (code, output) = PythonOnnx.Run("""
import sys, onnx
m = onnx.load(sys.argv[1])
onnx.checker.check_model(m, full_check=True)
print("OK", sum(n.op_type == "QuantizeLinear" for n in m.graph.node) > 0)
""", int8);
        Assert.True(code == 0, output);
        Assert.Equal("OK True", output.Trim());
    }

    [Fact]
    public void Float16_and_already_quantised_files_are_refused_by_name()
    {
        var half = Fp32("half.onnx", half: true);
        Assert.Contains("float32", Assert.Throws<InvalidDataException>(() => OnnxQuantizer.Quantize(half, half + ".q", Images(1, 1, 64, 0))).Message);
        var int8 = Path.Combine(_dir, "q.onnx");
        OnnxQuantizer.Quantize(Fp32("f.onnx"), int8, Images(1, 1, 64, 0));
        Assert.Contains("already quantised", Assert.Throws<InvalidDataException>(() => OnnxQuantizer.Quantize(int8, int8 + ".q", Images(1, 1, 64, 0))).Message);
        Assert.Contains("no calibration images", Assert.Throws<ArgumentException>(() => OnnxQuantizer.Quantize(Fp32("g.onnx"), int8 + ".r", Array.Empty<(float[], long[])>())).Message);
    }
}
