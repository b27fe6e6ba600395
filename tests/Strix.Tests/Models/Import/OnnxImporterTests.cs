using Strix.IO.Onnx;
using Strix.Models.Import;
using Xunit.Abstractions;

namespace Strix.Tests.Models.Import;

public class OnnxImporterTests(ITestOutputHelper output)
{
    static string Onnx => TestPaths.Fixture("ultralytics", "tiny_yolov8.onnx");

    [Fact]
    public void ImportsUltralyticsExportAsFusedModel()
    {
        var (model, meta, report) = OnnxImporter.Load(Onnx);
        using (model)
        {
            Assert.True(model.IsFused);
            Assert.True(meta.Fused);
            // ONNX files do not name the scale; it is inferred from the weight shapes.
            Assert.Equal(TinyModels.Tiny with { Name = "custom" }, model.Scale);
            Assert.Contains(report.Notes, n => n.Contains("inferred from tensor shapes"));
            Assert.Equal(3, model.NumClasses);
            Assert.Empty(report.Unmapped);
            Assert.Empty(report.Missing);
            Assert.Equal(model.state_dict().Count, report.Loaded);
            Assert.Equal(new[] { "bolt", "nut", "washer" }, meta.Names);
            Assert.Equal(64, meta.ImgSz);
            Assert.Equal("8.1.0", meta.Extra["ultralytics_version"]);
            Assert.Equal("2024-01-02T03:04:05", meta.Date);
        }
    }

    [Fact]
    public void ImportedOnnxModelReproducesPyTorchOutputs()
    {
        var (model, _, _) = OnnxImporter.Load(Onnx);
        using (model)
        using (var reference = UltralyticsImporterTests.Reference())
        {
            var r = reference.ToDictionary();
            using var pred = model.Predict(r["images"]);
            float diff = TinyModels.MaxAbsDiff(pred, r["pred"]);
            output.WriteLine($"onnx import: max abs diff vs PyTorch, decoded {diff:E2}");
            Assert.True(diff <= 1e-4, $"decoded predictions differ from PyTorch by {diff}");
        }
    }

    [Fact]
    public void AnonymousInitializerNamesAreMatchedByConvOrder()
    {
        // Rename every Conv initializer to an exporter-style anonymous name and shuffle the initializer list,
        // so only the order of the Conv nodes can place the weights.
        var proto = ModelProto.Load(Onnx);
        var graph = proto.Graph!;
        var rename = new Dictionary<string, string>();
        int k = 100;
        foreach (var node in graph.Node.Where(n => n.OpType == "Conv"))
            for (int i = 1; i < node.Input.Count; i++)
            {
                if (!rename.TryGetValue(node.Input[i], out var anon)) rename[node.Input[i]] = anon = $"onnx::Conv_{k++}";
                node.Input[i] = anon;
            }
        foreach (var t in graph.Initializer) t.Name = rename.GetValueOrDefault(t.Name, t.Name);
        var shuffled = graph.Initializer.OrderBy(t => t.Name.GetHashCode()).ToList();
        graph.Initializer.Clear();
        graph.Initializer.AddRange(shuffled);
        var path = Path.Combine(TestPaths.NewTempDir(), "anonymous.onnx");
        proto.Save(path);

        var (model, _, report) = OnnxImporter.Load(path);
        using (model)
        using (var reference = UltralyticsImporterTests.Reference())
        {
            Assert.Equal(TinyModels.Tiny with { Name = "custom" }, model.Scale);
            Assert.Empty(report.Unmapped);
            Assert.Empty(report.Missing);
            Assert.Contains(report.Notes, n => n.Contains("Conv node order"));
            var r = reference.ToDictionary();
            using var pred = model.Predict(r["images"]);
            float diff = TinyModels.MaxAbsDiff(pred, r["pred"]);
            output.WriteLine($"anonymous onnx import: max abs diff vs PyTorch, decoded {diff:E2}");
            Assert.True(diff <= 1e-4, $"decoded predictions differ from PyTorch by {diff}");
        }
    }

    [Fact]
    public void GraphsThatAreNotYoloGetAClearError()
    {
        var path = TestPaths.Fixture("onnx", "python_made.onnx");
        var e = Assert.Throws<InvalidDataException>(() => OnnxImporter.Load(path));
        Assert.Contains(path, e.Message);
    }
}

public class OnnxRoundTripTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(false, 1e-4)]
    [InlineData(true, 1e-2)] // fp16 initializers: weights rounded to 11 significant bits
    public void StrixExportsImportBack(bool half, double tolerance)
    {
        using var m = TinyModels.WithStatistics(nc: 2, seed: 3);
        var path = Path.Combine(TestPaths.NewTempDir(), "strix.onnx");
        Strix.Export.OnnxExporter.Export(m, path, new Strix.Export.OnnxExportOptions { ImageSize = 96, Half = half, Names = new[] { "cat", "dog" } });
        var (imported, meta, report) = OnnxImporter.Load(path);
        using (imported)
        {
            Assert.Empty(report.Unmapped);
            Assert.Empty(report.Missing);
            Assert.Equal(new[] { "cat", "dog" }, meta.Names);
            Assert.Equal(96, meta.ImgSz);
            using var x = TorchSharp.torch.rand(1, 3, 96, 96);
            using var a = m.Predict(x);
            using var b = imported.Predict(x);
            float diff = TinyModels.MaxAbsDiff(a, b);
            output.WriteLine($"strix onnx round trip half={half}: max abs diff {diff:E2}");
            Assert.True(diff <= tolerance, $"max abs diff {diff}");
        }
    }
}

/// <summary>YOLO11 and variant ONNX graphs (grouped convolutions, attention) imported back into TorchSharp models.</summary>
public class Yolo11OnnxImportTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("yolo11n", false)]
    [InlineData("yolo11n", true)]
    [InlineData("yolov8n-p2", true)]
    public void Exports_of_other_families_import_back_by_name_or_by_conv_order(string name, bool anonymous)
    {
        using var m = Strix.Models.DetectionModel.Create(name, 2);
        m.eval();
        var dir = TestPaths.NewTempDir();
        var path = Path.Combine(dir, "m.onnx");
        Strix.Export.OnnxExporter.Export(m, path, new Strix.Export.OnnxExportOptions { ImageSize = 64 });
        if (anonymous)
        {
            var proto = ModelProto.Load(path);
            var rename = new Dictionary<string, string>();
            int k = 0;
            foreach (var node in proto.Graph!.Node.Where(n => n.OpType == "Conv"))
                for (int i = 1; i < node.Input.Count; i++)
                {
                    if (!rename.TryGetValue(node.Input[i], out var anon)) rename[node.Input[i]] = anon = $"onnx::Conv_{k++}";
                    node.Input[i] = anon;
                }
            foreach (var t in proto.Graph.Initializer) t.Name = rename.GetValueOrDefault(t.Name, t.Name);
            proto.Save(path);
        }
        var (imported, meta, report) = OnnxImporter.Load(path);
        using (imported)
        {
            Assert.Equal(name, imported.Name);
            Assert.Equal(m.Spec.Name, meta.Architecture);
            Assert.Empty(report.Unmapped);
            Assert.Empty(report.Missing);
            using var x = TorchSharp.torch.rand(1, 3, 64, 64);
            using var a = m.Predict(x);
            using var b = imported.Predict(x);
            float diff = TinyModels.MaxAbsDiff(a, b);
            output.WriteLine($"{name} onnx import (anonymous={anonymous}): max abs diff {diff:E2}");
            Assert.True(diff <= 1e-3, $"max abs diff {diff}");
        }
    }
}
