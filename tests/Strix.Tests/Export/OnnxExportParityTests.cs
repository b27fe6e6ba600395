using Strix.Export;
using Strix.IO.Onnx;
using static TorchSharp.torch;

namespace Strix.Tests.Export;

/// <summary>ONNX Runtime on our exports against the fused TorchSharp model.</summary>
public class OnnxExportParityTests : IDisposable
{
    readonly string _dir = TestPaths.NewTempDir("strix-onnx");
    public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

    string Export(Strix.Models.DetectionModel m, OnnxExportOptions o, string name)
    {
        var p = Path.Combine(_dir, name);
        OnnxExporter.Export(m, p, o);
        return p;
    }

    [Fact]
    public void StaticFp32MatchesFusedTorchSharp()
    {
        using var m = ExportTestModels.Make(nc: 3);
        var before = m.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        var p = Export(m, new OnnxExportOptions { Height = 96, Width = 128, Batch = 2 }, "static.onnx");

        // The caller's model is untouched: not fused, same weights.
        Assert.False(m.IsFused);
        foreach (var (k, v) in m.state_dict()) Assert.True(v.eq(before[k]).all().item<bool>(), $"{k} changed during export");

        manual_seed(1);
        using var x = rand(2, 3, 96, 128);
        using var expected = ExportTestModels.FusedPredict(m, x);
        using var ort = OnnxRuntimeBackend.Open(p);
        Assert.False(ort.DynamicShape);
        Assert.False(ort.IsHalf);
        using var y = ort.Forward(x);
        Assert.Equal(new long[] { 2, 4 + 3, 12 * 16 + 6 * 8 + 3 * 4 }, y.shape);
        Assert.True(ExportTestModels.MaxAbsDiff(expected, y) <= 1e-3f, $"max abs diff {ExportTestModels.MaxAbsDiff(expected, y)}");
    }

    [Fact]
    public void DynamicFp32MatchesAtSeveralSizesAndBatches()
    {
        using var m = ExportTestModels.Make(nc: 2, seed: 3);
        var p = Export(m, new OnnxExportOptions { ImageSize = 64, Dynamic = true }, "dynamic.onnx");
        using var ort = OnnxRuntimeBackend.Open(p);
        Assert.True(ort.DynamicShape);
        Assert.Null(ort.FixedBatch);
        foreach (var (b, h, w) in new[] { (1, 64, 64), (4, 64, 64), (1, 160, 96), (4, 128, 160) })
        {
            manual_seed(b * 1000 + h + w);
            using var x = rand(b, 3, h, w);
            using var expected = ExportTestModels.FusedPredict(m, x);
            using var y = ort.Forward(x);
            Assert.Equal(expected.shape, y.shape);
            float diff = ExportTestModels.MaxAbsDiff(expected, y);
            Assert.True(diff <= 1e-3f, $"batch {b} {h}x{w}: max abs diff {diff}");
        }
    }

    [Fact]
    public void HalfExportsStoreFp16AndStayClose()
    {
        using var m = ExportTestModels.Make(nc: 3, seed: 5);
        var pStatic = Export(m, new OnnxExportOptions { ImageSize = 96, Half = true }, "half.onnx");
        var pDyn = Export(m, new OnnxExportOptions { ImageSize = 96, Half = true, Dynamic = true }, "half-dyn.onnx");
        var proto = ModelProto.Load(pStatic);
        Assert.All(proto.Graph!.Initializer.Where(t => t.Name.EndsWith(".weight")), t => Assert.Equal(OnnxDataType.Float16, t.DataType));
        Assert.Equal(OnnxDataType.Float16, proto.Graph.Input[0].Type!.TensorType!.ElemType);
        Assert.Equal(OnnxDataType.Float16, proto.Graph.Output[0].Type!.TensorType!.ElemType);
        Assert.True(new FileInfo(pStatic).Length < new FileInfo(Export(m, new OnnxExportOptions { ImageSize = 96 }, "full.onnx")).Length * 0.6);

        foreach (var (p, h, w) in new[] { (pStatic, 96, 96), (pDyn, 96, 96), (pDyn, 64, 128) })
        {
            manual_seed(h * w);
            using var x = rand(2, 3, h, w);
            using var expected = ExportTestModels.FusedPredict(m, x);
            using var ort = OnnxRuntimeBackend.Open(p);
            Assert.True(ort.IsHalf);
            using var y = ort.Forward(x);
            Assert.Equal(ScalarType.Float32, y.dtype);
            // fp16 keeps ~3 significant digits: boxes (pixels) within 1 px, scores within 0.01.
            float boxDiff = ExportTestModels.MaxAbsDiff(expected[.., ..4], y[.., ..4]);
            float scoreDiff = ExportTestModels.MaxAbsDiff(expected[.., 4..], y[.., 4..]);
            Assert.True(boxDiff <= 1.0f, $"{Path.GetFileName(p)} {h}x{w}: box diff {boxDiff}");
            Assert.True(scoreDiff <= 0.01f, $"{Path.GetFileName(p)} {h}x{w}: score diff {scoreDiff}");
        }
    }

    [Theory]
    [InlineData(13)]
    [InlineData(19)]
    public void EveryAcceptedOpsetRuns(int opset)
    {
        using var m = ExportTestModels.Make(nc: 1, seed: 7);
        var p = Export(m, new OnnxExportOptions { ImageSize = 64, Opset = opset, Dynamic = true }, $"opset{opset}.onnx");
        var proto = ModelProto.Load(p);
        Assert.Equal(opset, proto.OnnxOpset);
        Assert.Equal(OnnxExporter.IrVersionFor(opset), proto.IrVersion);
        using var x = rand(1, 3, 96, 64);
        using var expected = ExportTestModels.FusedPredict(m, x);
        using var ort = OnnxRuntimeBackend.Open(p);
        using var y = ort.Forward(x);
        Assert.True(ExportTestModels.MaxAbsDiff(expected, y) <= 1e-3f);
    }

    [Theory]
    [InlineData(12)]
    [InlineData(20)]
    public void OpsetsOutsideTheSupportedRangeAreRejected(int opset)
    {
        using var m = ExportTestModels.Make(nc: 1);
        var e = Assert.Throws<ArgumentException>(() => OnnxExporter.Build(m, new OnnxExportOptions { ImageSize = 64, Opset = opset }));
        Assert.Contains($"opset={opset}", e.Message);
        Assert.Contains("13 to 19", e.Message);
    }

    [Fact]
    public void BadSizesAndNamesAreRejected()
    {
        using var m = ExportTestModels.Make(nc: 2);
        Assert.Contains("stride 32", Assert.Throws<ArgumentException>(() => OnnxExporter.Build(m, new OnnxExportOptions { ImageSize = 100 })).Message);
        Assert.Contains("2 classes", Assert.Throws<ArgumentException>(() => OnnxExporter.Build(m, new OnnxExportOptions { ImageSize = 64, Names = new[] { "a" } })).Message);
    }

    [Fact]
    public void FixedBatchModelRunsAnyBatchInChunks()
    {
        using var m = ExportTestModels.Make(nc: 2, seed: 9);
        var p = Export(m, new OnnxExportOptions { ImageSize = 64, Batch = 2 }, "b2.onnx");
        using var ort = OnnxRuntimeBackend.Open(p);
        Assert.Equal(2, ort.FixedBatch);
        using var x = rand(3, 3, 64, 64); // 3 = one full chunk + one padded chunk
        using var expected = ExportTestModels.FusedPredict(m, x);
        using var y = ort.Forward(x);
        Assert.Equal(expected.shape, y.shape);
        Assert.True(ExportTestModels.MaxAbsDiff(expected, y) <= 1e-3f);
        using var wrong = rand(1, 3, 96, 64);
        Assert.Contains("64x64", Assert.Throws<ArgumentException>(() => ort.Forward(wrong)).Message);
    }
}
