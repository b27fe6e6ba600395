using Strix.IO;
using Strix.Models;
using Strix.Models.Architecture;
using Strix.Models.Import;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Strix.Tests.Models.Import;

/// <summary>Ultralytics 8.3-style YOLO11 checkpoints and bare state dicts.</summary>
public class Yolo11ImportTests(ITestOutputHelper output) : IDisposable
{
    static string Pt => TestPaths.Fixture("ultralytics", "tiny_yolo11.pt");
    readonly string _dir = TestPaths.NewTempDir("strix-import11");
    public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

    [Fact]
    public void A_yolo11_checkpoint_is_rebuilt_from_its_yaml_and_imports_every_tensor()
    {
        var (model, meta, report) = UltralyticsImporter.Load(Pt);
        using (model)
        {
            Assert.True(report.Complete, report.ToString());
            Assert.Empty(report.Notes);
            Assert.Equal(model.state_dict().Count, report.Loaded);
            Assert.Same(ModelCatalog.Yolo11, model.Spec);                // the rows are yolo11.yaml's
            Assert.Equal(new YoloScale("s", 0.5, 0.125, 1024), model.Scale); // the checkpoint's own scale table
            Assert.False(model.Head.Legacy);
            Assert.Equal(3, model.NumClasses);
            Assert.Equal(new[] { "bolt", "nut", "washer" }, meta.Names);
            Assert.Equal("yolo11", meta.Architecture);
            Assert.Equal("8.3.40", meta.Extra["ultralytics_version"]);
            Assert.Equal(64, meta.ImgSz);
            // Scale s: the rows that say c3k=True build C3k blocks, the others plain bottlenecks.
            Assert.IsType<Strix.Nn.C3k>(((Strix.Nn.C3k2)model.Layers[6].Module).m[0]);
            Assert.IsType<Strix.Nn.Bottleneck>(((Strix.Nn.C3k2)model.Layers[2].Module).m[0]);
        }
    }

    [Fact]
    public void The_imported_yolo11_reproduces_PyTorchs_outputs()
    {
        var (model, _, _) = UltralyticsImporter.Load(Pt);
        using (model)
        using (var reference = Safetensors.Load(TestPaths.Fixture("ultralytics", "tiny_yolo11_io.safetensors")))
        {
            var r = reference.ToDictionary();
            // forward's outputs, the raw head maps: equal to PyTorch's to 1e-4.
            var raw = model.forward(r["images"]);
            for (int i = 0; i < 3; i++)
            {
                float d = TinyModels.MaxAbsDiff(raw[i], r[$"raw{i}"]);
                output.WriteLine($"yolo11 import: raw level {i} max abs diff vs PyTorch {d:E2}");
                Assert.True(d <= 1e-4, $"raw level {i} differs from PyTorch by {d}");
                raw[i].Dispose();
            }
            // Decoded boxes are in pixels (strides up to 32), where float32 itself is only good to ~1e-4: PyTorch's
            // fp32 result is 2.6e-4 from its fp64 one. Ours must be as close to the fp64 truth as PyTorch's fp32 is.
            using var pred = model.Predict(r["images"]);
            float vsTorch = TinyModels.MaxAbsDiff(pred, r["pred"]);
            float ours = TinyModels.MaxAbsDiff(pred, r["pred64"]), torchFloor = TinyModels.MaxAbsDiff(r["pred"], r["pred64"]);
            output.WriteLine($"decoded: vs PyTorch fp32 {vsTorch:E2}; vs fp64 ours {ours:E2}, PyTorch fp32 {torchFloor:E2}");
            Assert.True(ours <= 1.5 * torchFloor + 1e-5, $"decoded: {ours} from fp64 where PyTorch's fp32 is {torchFloor}");
            Assert.True(vsTorch <= 2 * torchFloor, $"decoded: {vsTorch} from PyTorch's fp32");
        }
    }

    [Fact]
    public void The_imported_checkpoint_saves_and_reloads_as_yolo11()
    {
        using var loaded = ModelLoader.Load(Pt);
        var file = Path.Combine(_dir, "imported.safetensors");
        WeightsFile.Save(loaded.Model, file, loaded.Metadata);
        var (back, meta) = WeightsFile.Load(file);
        using (back)
        {
            Assert.Same(ModelCatalog.Yolo11, back.Spec);
            Assert.Equal(loaded.Model.Scale, back.Scale);
            using var x = rand(1, 3, 64, 64);
            using var a = loaded.Model.Predict(x);
            using var b = back.Predict(x);
            Assert.True(a.eq(b).all().item<bool>());
        }
    }

    [Fact]
    public void Fine_tuning_the_checkpoint_on_another_class_count_keeps_everything_but_the_class_outputs()
    {
        using var loaded = ModelLoader.Load(Pt, nc: 6);
        Assert.Same(ModelCatalog.Yolo11, loaded.Model.Spec);
        Assert.Equal(6, loaded.Model.NumClasses);
        var report = loaded.Report!;
        Assert.Contains(report.Notes, n => n.Contains("class count changed from 3 to 6"));
        // Only the three levels' final class convs (weight and bias) differ in shape.
        Assert.Equal(6, report.Unmapped.Count);
        Assert.All(report.Unmapped, n => Assert.Matches(@"^model\.23\.cv3\.\d\.2\.(weight|bias)", n));
        Assert.Equal(loaded.Model.state_dict().Count - 6, report.Loaded);
    }

    [Theory]
    [InlineData("yolo11n")]
    [InlineData("yolov8s-p2")]
    [InlineData("yolov8n")]
    public void A_bare_safetensors_state_dict_imports_by_names_and_shapes(string name)
    {
        using var source = DetectionModel.Create(name, 5);
        source.eval();
        var file = Path.Combine(_dir, name + ".safetensors");
        Safetensors.Save(file, source.state_dict()); // as safetensors.torch.save_file writes it: no Strix metadata
        using var loaded = ModelLoader.Load(file);
        Assert.Equal(name, loaded.Model.Name);
        Assert.Equal(5, loaded.Model.NumClasses);
        Assert.True(loaded.Report!.Complete);
        using var x = rand(1, 3, 64, 64);
        using var a = source.Predict(x);
        using var b = loaded.Model.Predict(x);
        Assert.True(a.eq(b).all().item<bool>());
    }

    [Fact]
    public void A_state_dict_that_fits_no_architecture_is_refused_with_a_reason()
    {
        using var m = DetectionModel.Create("yolo11n", 2);
        var shapes = m.state_dict().Where(kv => !kv.Key.StartsWith("model.10.")).ToDictionary(kv => kv.Key, kv => kv.Value.shape);
        var e = Assert.Throws<InvalidDataException>(() => ShapeArchitecture.Infer(shapes, "odd.safetensors"));
        Assert.Contains("odd.safetensors: its", e.Message);
        Assert.Contains("fit no built-in architecture", e.Message);
    }

    [Fact]
    public void The_pickled_yaml_is_written_back_as_model_YAML_and_recognised_as_yolo11()
    {
        using var ckpt = Strix.Models.Import.Pickle.TorchCheckpoint.Open(Pt);
        var root = (Strix.Models.Import.Pickle.PickleDict)ckpt.Root!;
        var ema = (Strix.Models.Import.Pickle.PickleObject)root["ema"]!;
        var yaml = (Strix.Models.Import.Pickle.PickleDict)ema.Attribute("yaml")!;
        var arch = PickledArchitecture.Read(yaml, "x.pt");
        Assert.NotNull(arch);
        Assert.Same(ModelCatalog.Yolo11, arch!.Value.Spec);
        var text = PickledArchitecture.ToYaml(yaml);
        Assert.Contains("  - [-1, 2, C2PSA, [1024]]", text);
        Assert.Contains("  - [[16, 19, 22], 1, Detect, [\"nc\"]]", text);
    }
}
