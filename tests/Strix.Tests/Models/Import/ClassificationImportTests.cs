using Strix.Models;
using Strix.Models.Import;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Strix.Tests.Models.Import;

/// <summary>An Ultralytics -cls checkpoint (make_cls_fixture.py: a ClassificationModel tree with its yaml, fp16 ema) against PyTorch.</summary>
public class ClassificationImportTests(ITestOutputHelper output)
{
    static string Pt => TestPaths.Fixture("ultralytics", "tiny_yolov8_cls.pt");

    [Theory]
    [InlineData("yolov8")]
    [InlineData("yolo11")] // C3k2 and the C2PSA attention stage before the head
    public void A_classification_checkpoint_imports_whole_and_reproduces_PyTorch(string family)
    {
        var (model, meta, report) = UltralyticsImporter.Load(TestPaths.Fixture("ultralytics", $"tiny_{family}_cls.pt"));
        using (model)
        using (var reference = Strix.IO.Safetensors.Load(TestPaths.Fixture("ultralytics", $"tiny_{family}_cls_io.safetensors")))
        {
            Assert.True(report.Complete);
            Assert.Equal(model.state_dict().Count, report.Loaded);
            Assert.Equal("classify", model.Task);
            Assert.Equal("classify", meta.Task);
            // Rebuilt from its own yaml (a narrow scale of its own), whose rows are the built-in -cls file's.
            Assert.True(PickledArchitecture.SameRows(model.Spec, Strix.Models.Architecture.ModelCatalog.Builtin($"{family}-cls")));
            Assert.Equal(4, model.NumClasses);
            Assert.Equal(new[] { "good", "scratch", "dent", "stain" }, meta.Names);
            Assert.Equal(64, meta.ImgSz);
            var r = reference.ToDictionary();
            using var probs = model.PredictClasses(r["images"]);
            float diff = TinyModels.MaxAbsDiff(probs, r["probs"]);
            output.WriteLine($"{family}-cls import: max abs diff vs PyTorch {diff:E2}");
            Assert.True(diff <= 1e-4, $"probabilities differ from PyTorch by {diff}");
        }
    }

    [Fact]
    public void Model_loader_reads_it_and_training_would_get_a_classifier()
    {
        using var loaded = ModelLoader.Load(Pt, null, _ => { });
        Assert.Equal("classify", loaded.Model.Task);
        using var fresh = loaded.Model.WithClasses(2); // fine-tuning to other classes keeps the architecture
        Assert.Equal("classify", fresh.Task);
        Assert.Equal(2, fresh.NumClasses);
    }
}
