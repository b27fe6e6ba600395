using Strix.IO;
using Strix.Models;
using Strix.Models.Import;
using static TorchSharp.torch;
using Xunit.Abstractions;

namespace Strix.Tests.Models.Import;

/// <summary>An Ultralytics-style YOLOv8-seg checkpoint (fixture made by make_seg_fixture.py).</summary>
public class SegmentationImportTests(ITestOutputHelper output) : IDisposable
{
    readonly string _dir = TestPaths.NewTempDir("strix-import-seg");
    public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

    [Fact]
    public void The_imported_seg_model_saves_and_reloads_with_its_head()
    {
        using var loaded = ModelLoader.Load(Pt);
        Assert.IsType<Strix.Nn.Segment>(loaded.Model.Head);
        var file = Path.Combine(_dir, "imported.safetensors");
        WeightsFile.Save(loaded.Model, file, loaded.Metadata);
        var (back, _) = WeightsFile.Load(file);
        using (back)
        {
            Assert.Equal("segment", back.Task);
            using var x = rand(1, 3, 64, 64);
            var (a, pa) = loaded.Model.PredictMasks(x);
            var (b, pb) = back.PredictMasks(x);
            using (a) using (pa) using (b) using (pb)
            {
                Assert.True(a.eq(b).all().item<bool>());
                Assert.True(pa.eq(pb).all().item<bool>());
            }
        }
    }

    static string Pt => TestPaths.Fixture("ultralytics", "tiny_yolov8_seg.pt");

    [Fact]
    public void A_seg_checkpoint_imports_every_tensor_and_reproduces_PyTorchs_two_outputs()
    {
        var (model, meta, report) = UltralyticsImporter.Load(Pt);
        using (model)
        using (var reference = Safetensors.Load(TestPaths.Fixture("ultralytics", "tiny_yolov8_seg_io.safetensors")))
        {
            Assert.True(report.Complete, report.ToString());
            Assert.Equal(model.state_dict().Count, report.Loaded);
            Assert.Equal("segment", model.Task);
            Assert.Equal(new[] { "scratch", "dent", "void" }, meta.Names);
            var r = reference.ToDictionary();
            var (pred, proto) = model.PredictMasks(r["images"]);
            using (pred) using (proto)
            {
                float dProto = TinyModels.MaxAbsDiff(proto, r["proto"]);
                // Boxes are pixels (up to ~100 here), so compare them relative to their size; scores and coefficients absolutely.
                using var boxes = pred[.., ..4]; using var refBoxes = r["pred"][.., ..4];
                using var rest = pred[.., 4..]; using var refRest = r["pred"][.., 4..];
                float dBox = TinyModels.MaxAbsDiff(boxes, refBoxes), dRest = TinyModels.MaxAbsDiff(rest, refRest);
                output.WriteLine($"seg import vs PyTorch: prototypes {dProto:E2}, boxes {dBox:E2}, scores+coefficients {dRest:E2}");
                Assert.Equal(r["pred"].shape, pred.shape);
                Assert.True(dProto <= 1e-4, $"prototypes differ by {dProto}");
                Assert.True(dRest <= 1e-4, $"scores and mask coefficients differ by {dRest}");
                Assert.True(dBox <= 1e-3, $"boxes differ by {dBox}");
            }
        }
    }
}
