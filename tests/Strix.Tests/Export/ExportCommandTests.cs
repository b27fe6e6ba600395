using Strix.Cli;
using Strix.Cli.Commands;
using Strix.Export;
using Strix.Models;
using static TorchSharp.torch;

namespace Strix.Tests.Export;

[Collection("Console output")] // these tests redirect Console.Out: not in parallel with each other
public class ExportCommandTests : IDisposable
{
    readonly string _dir = TestPaths.NewTempDir("strix-export-cli");
    public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

    static (int Code, string Output) Run(params string[] args)
    {
        var output = new StringWriter();
        var old = Console.Out;
        try
        {
            Console.SetOut(output);
            return (new ExportCommand().Run(args), output.ToString());
        }
        finally { Console.SetOut(old); }
    }

    [SkippableFact]
    public void Int8ExportCalibratesOnTheDataAndNeedsIt()
    {
        var data = TestPaths.Asset("coco8.yaml");
        using var m = ExportTestModels.Make(nc: 80, seed: 4);
        var weights = Path.Combine(_dir, "q.safetensors");
        WeightsFile.Save(m, weights, ModelMetadata.For(m, Strix.Eval.CocoCategories.Names, imgsz: 64));
        var (code, text) = Run($"model={weights}", "int8=true", $"data={data}", "output=" + Path.Combine(_dir, "q.onnx"));
        Assert.Equal(0, code);
        Assert.Contains("INT8 (minmax) from 4 val images", text);
        Assert.Equal("True", Strix.IO.Onnx.ModelProto.Load(Path.Combine(_dir, "q.onnx")).GetMetadata("int8"));
        using (var ort = OnnxRuntimeBackend.Open(Path.Combine(_dir, "q.onnx"))) Assert.Equal(80, ort.Names.Count);
        Assert.DoesNotContain(Directory.GetFiles(_dir), f => f.EndsWith(".tmp"));
        var e = Assert.ThrowsAny<ArgumentException>(() => Run($"model={weights}", "int8=true"));
        Assert.Contains("data", e.Message);
    }

    [Fact]
    public void ExportsWeightsFileBesideItWithItsNames()
    {
        using var m = ExportTestModels.Make(nc: 2, seed: 4);
        var weights = Path.Combine(_dir, "best.safetensors");
        WeightsFile.Save(m, weights, ModelMetadata.For(m, new[] { "bolt", "nut" }, imgsz: 96));

        var (code, text) = Run($"model={weights}", "format=onnx", "dynamic=True", "half=False", "opset=17");
        Assert.Equal(0, code);
        var onnx = Path.Combine(_dir, "best.onnx");
        Assert.Contains("export success", text);
        Assert.Contains(onnx, text);

        using var ort = OnnxRuntimeBackend.Open(onnx);
        Assert.Equal(new[] { "bolt", "nut" }, ort.Names);
        Assert.Equal(96, ort.ImageSize); // the weights' training size is the default imgsz
        Assert.True(ort.DynamicShape);
        using var x = rand(1, 3, 64, 128);
        using var expected = ExportTestModels.FusedPredict(m, x);
        using var y = ort.Forward(x);
        Assert.True(ExportTestModels.MaxAbsDiff(expected, y) <= 1e-3f);
    }

    [Fact]
    public void RoundsImgszUpToTheStrideAndHonoursOutput()
    {
        var output = Path.Combine(_dir, "sub", "n.onnx");
        var (code, text) = Run("model=yolov8n", "nc=1", "imgsz=100", "half=true", $"output={output}");
        Assert.Equal(0, code);
        Assert.Contains("updating to 128", text);
        using var ort = OnnxRuntimeBackend.Open(output);
        Assert.True(ort.IsHalf);
        Assert.False(ort.DynamicShape);
        Assert.Equal(128, ort.ImageSize);
    }

    [Theory]
    [InlineData("format=engine", "format=engine")]
    [InlineData("opset=21", "opset=21")]
    [InlineData("imgsx=640", "imgsx")]
    [InlineData("imgsz=1,2,3", "imgsz")]
    public void BadArgumentsGetClearMessages(string arg, string expected)
    {
        var e = Record.Exception(() => Run("model=yolov8n", arg));
        Assert.True(e is ArgumentException or NotSupportedException, e?.ToString());
        Assert.Contains(expected, e!.Message);
    }

    [Fact]
    public void RefusesToOverwriteTheSourceOnnx()
    {
        var src = Path.Combine(_dir, "tiny_yolov8.onnx");
        File.Copy(TestPaths.Fixture("ultralytics", "tiny_yolov8.onnx"), src);
        var e = Assert.Throws<ArgumentException>(() => Run($"model={src}"));
        Assert.Contains("overwrite", e.Message);
        var (code, _) = Run($"model={src}", $"output={Path.Combine(_dir, "re.onnx")}", "imgsz=64");
        Assert.Equal(0, code);
        using var ort = OnnxRuntimeBackend.Open(Path.Combine(_dir, "re.onnx"));
        Assert.Equal(new[] { "bolt", "nut", "washer" }, ort.Names);
    }
}
