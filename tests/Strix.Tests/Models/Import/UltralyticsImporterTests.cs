using Strix.IO;
using Strix.Models;
using Strix.Models.Import;
using Strix.Models.Import.Pickle;
using System.IO.Compression;
using System.Text;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Strix.Tests.Models.Import;

public class UltralyticsImporterTests(ITestOutputHelper output)
{
    static string Pt => TestPaths.Fixture("ultralytics", "tiny_yolov8.pt");

    /// <summary>The input batch and PyTorch's outputs for it, written by make_fixtures.py.</summary>
    internal static Strix.IO.Safetensors.Contents Reference() => Strix.IO.Safetensors.Load(TestPaths.Fixture("ultralytics", "tiny_yolov8_io.safetensors"));

    [Fact]
    public void ImportsEveryTensorOfTheFixtureCheckpoint()
    {
        var (model, meta, report) = UltralyticsImporter.Load(Pt);
        using (model)
        {
            Assert.Empty(report.Unmapped);
            Assert.Empty(report.Missing);
            Assert.True(report.Complete);
            Assert.Equal(model.state_dict().Count, report.Loaded);
            Assert.Equal(TinyModels.Tiny, model.Scale);
            Assert.Equal(3, model.NumClasses);
            Assert.Equal(new[] { "bolt", "nut", "washer" }, meta.Names);
            Assert.Equal(64, meta.ImgSz);
            Assert.Equal("3", meta.TrainArgs["epochs"]);
            Assert.Equal("true", meta.TrainArgs["amp"]);
            Assert.Equal("8.1.0", meta.Extra["ultralytics_version"]);
            Assert.Equal("0.4321", meta.Extra["source_best_fitness"]); // a numpy float64 in the pickle
            Assert.Equal("2024-01-02T03:04:05", meta.Date);
            Assert.False(meta.Fused);
            Assert.Empty(report.Notes);
            // fp16 in the file, fp32 in the model; BN statistics imported too.
            var sd = model.state_dict();
            Assert.Equal(ScalarType.Float32, sd["model.0.conv.weight"].dtype);
            Assert.Equal(1234L, sd["model.0.bn.num_batches_tracked"].item<long>());
        }
    }

    [Fact]
    public void ImportedModelReproducesPyTorchOutputs()
    {
        var (model, _, _) = UltralyticsImporter.Load(Pt);
        using (model)
        using (var reference = Reference())
        {
            var r = reference.ToDictionary();
            using var pred = model.Predict(r["images"]);
            float diff = TinyModels.MaxAbsDiff(pred, r["pred"]);
            output.WriteLine($"pt import: max abs diff vs PyTorch, decoded {diff:E2}");
            Assert.True(diff <= 1e-4, $"decoded predictions differ from PyTorch by {diff}");
            var raw = model.forward(r["images"]);
            for (int i = 0; i < 3; i++)
            {
                float d = TinyModels.MaxAbsDiff(raw[i], r[$"raw{i}"]);
                output.WriteLine($"pt import: max abs diff vs PyTorch, raw level {i} {d:E2}");
                Assert.True(d <= 1e-4, $"raw level {i} differs from PyTorch by {d}");
                raw[i].Dispose();
            }
        }
    }

    [Fact]
    public void CheckpointPickleHoldsUltralyticsStructure()
    {
        using var ckpt = TorchCheckpoint.Open(Pt);
        var root = Assert.IsType<PickleDict>(ckpt.Root);
        Assert.Null(root["model"]);
        Assert.Null(root["optimizer"]);
        Assert.Equal(-1L, root["epoch"]);
        var ema = Assert.IsType<PickleObject>(root["ema"]);
        Assert.Equal("ultralytics.nn.tasks.DetectionModel", ema.Type.FullName);
        var sd = UltralyticsImporter.ModuleStateDict(ema);
        var w = sd["model.2.m.0.cv1.conv.weight"];
        Assert.Equal(ScalarType.Float16, w.DType);
        Assert.True(w.IsParameter);
        using var t = ckpt.ToTensor(w);
        Assert.Equal(w.Size, t.shape);
        // Only the weights of a module tree end up in its state dict, not attributes like Detect.stride.
        Assert.DoesNotContain(sd.Keys, k => k.EndsWith("stride"));
    }

    [Fact]
    public void NonCheckpointFilesGetAClearError()
    {
        var dir = TestPaths.NewTempDir();
        var text = Path.Combine(dir, "notes.pt");
        File.WriteAllText(text, "not a checkpoint");
        var e = Assert.Throws<InvalidDataException>(() => UltralyticsImporter.Load(text));
        Assert.Contains(text, e.Message);
        Assert.Contains("not a zip archive", e.Message);
        Assert.Throws<FileNotFoundException>(() => UltralyticsImporter.Load(Path.Combine(dir, "absent.pt")));
    }

    [Fact]
    public void ScaleInferenceRecoversStandardAndNarrowScales()
    {
        foreach (var s in YoloScale.All.Append(TinyModels.Tiny))
        {
            var channels = ScaleInference.BaseChannels.Select(c => (long)s.Channels(c)).ToArray();
            var inferred = ScaleInference.Infer(s.Repeats(3), s.Repeats(6), channels, "t");
            Assert.NotNull(inferred);
            Assert.True(ScaleInference.Matches(inferred!, s.Repeats(3), s.Repeats(6), channels));
            if (YoloScale.All.Contains(s)) { Assert.Equal(s, inferred); continue; }
            // A custom scale: the whole architecture agrees, not just the five probed layers.
            using var a = new DetectionModel(s, 3);
            using var b = new DetectionModel(inferred!, 3);
            Assert.Equal(a.state_dict().Select(kv => (kv.Key, string.Join(",", kv.Value.shape))),
                         b.state_dict().Select(kv => (kv.Key, string.Join(",", kv.Value.shape))));
        }
        Assert.Null(ScaleInference.Infer(1, 2, new long[] { 8, 9, 8, 16, 32 }));
    }

    /// <summary>A torch.save-style zip holding only <paramref name="pickle"/> as archive/data.pkl.</summary>
    static string WriteCheckpoint(byte[] pickle)
    {
        var path = Path.Combine(TestPaths.NewTempDir(), "hand_made.pt");
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        using (var s = zip.CreateEntry("archive/data.pkl").Open()) s.Write(pickle);
        using (var s = zip.CreateEntry("archive/version").Open()) s.Write("3\n"u8);
        return path;
    }

    [Fact]
    public void CheckpointsWithoutAModelOrWithAnotherTaskAreRefused()
    {
        // pickle.dumps({'ema': None, 'model': None}, protocol=2)
        var empty = WriteCheckpoint(Encoding.Latin1.GetBytes("\u0080\u0002}q\u0000(X\u0003\u0000\u0000\u0000emaq\u0001NX\u0005\u0000\u0000\u0000modelq\u0002Nu."));
        var e1 = Assert.Throws<InvalidDataException>(() => UltralyticsImporter.Load(empty));
        Assert.Contains("'ema' and 'model' are both empty", e1.Message);

        // {'ema': None, 'model': <DetectionModel without layers>}: the released-weights layout (ema stripped) picks 'model'.
        var stripped = WriteCheckpoint(Encoding.Latin1.GetBytes("\u0080\u0002}q\u0000(X\u0003\u0000\u0000\u0000emaNX\u0005\u0000\u0000\u0000modelcultralytics.nn.tasks\nDetectionModel\n)\u0081}bu."));
        var e3 = Assert.Throws<InvalidDataException>(() => UltralyticsImporter.Load(stripped));
        Assert.Contains("ultralytics.nn.tasks.DetectionModel has no 'model' layer sequence", e3.Message);

        // An RT-DETR model object: refused by class name before anything else (the five YOLO tasks import).
        var rtdetr = WriteCheckpoint(Encoding.Latin1.GetBytes("\u0080\u0002cultralytics.nn.tasks\nRTDETRDetectionModel\n)\u0081}b."));
        var e2 = Assert.Throws<InvalidDataException>(() => UltralyticsImporter.Load(rtdetr));
        Assert.Contains("ultralytics.nn.tasks.RTDETRDetectionModel is not supported", e2.Message);
    }
}
