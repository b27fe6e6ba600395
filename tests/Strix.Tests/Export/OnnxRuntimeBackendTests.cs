using static Strix.Tests.Inference.TestPredictors;
using Strix.Eval;
using Strix.Export;
using Strix.IO.Onnx;
using Strix.IO;
using Strix.Inference;
using Strix.Models.Import;
using static TorchSharp.torch;

namespace Strix.Tests.Export;

public class OnnxRuntimeBackendTests : IDisposable
{
    readonly string _dir = TestPaths.NewTempDir("strix-ort");
    public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

    static string UltralyticsOnnx => TestPaths.Fixture("ultralytics", "tiny_yolov8.onnx");

    [SkippableFact]
    public void MetadataUsesUltralyticsKeysAndRoundTrips()
    {
        using var m = ExportTestModels.Make(nc: 3);
        var names = new[] { "person", "it's", "say \"hi\"" };
        var p = Path.Combine(_dir, "meta.onnx");
        OnnxExporter.Export(m, p, new OnnxExportOptions { ImageSize = 96, Names = names, Batch = 1 });

        var proto = ModelProto.Load(p);
        foreach (var key in new[] { "description", "author", "date", "version", "stride", "task", "batch", "imgsz", "names" })
            Assert.NotNull(proto.GetMetadata(key));
        Assert.Equal("{0: 'person', 1: \"it's\", 2: 'say \"hi\"'}", proto.GetMetadata("names")); // Python's str(dict)
        Assert.Equal("[96, 96]", proto.GetMetadata("imgsz"));
        Assert.Equal("32", proto.GetMetadata("stride"));
        Assert.Equal("detect", proto.GetMetadata("task"));
        Assert.Equal("strix", proto.ProducerName);
        Assert.True(DateTime.TryParse(proto.GetMetadata("date"), out _));

        using var ort = OnnxRuntimeBackend.Open(p);
        Assert.Equal(names, ort.Names);
        Assert.Equal(96, ort.ImageSize);
        Assert.Equal(32, ort.Stride);
        Assert.Equal(CPU.type, ort.Device.type);
    }

    [SkippableFact]
    public void DefaultNamesAreCocoForEightyClasses()
    {
        using var m = ExportTestModels.Make(nc: 80);
        var p = Path.Combine(_dir, "coco.onnx");
        OnnxExporter.Export(m, p, new OnnxExportOptions { ImageSize = 64 });
        using var ort = OnnxRuntimeBackend.Open(p);
        Assert.Equal(80, ort.Names.Count);
        Assert.Equal("person", ort.Names[0]);
        Assert.Equal("toothbrush", ort.Names[79]);
    }

    [SkippableFact]
    public void RunsTheFixtureExportedByTorchOnnxExport()
    {
        // tiny_yolov8.onnx was written by PyTorch's torch.onnx.export (opset 12) with Ultralytics' metadata.
        using var ort = OnnxRuntimeBackend.Open(UltralyticsOnnx);
        Assert.Equal(new[] { "bolt", "nut", "washer" }, ort.Names);
        Assert.Equal(64, ort.ImageSize);
        Assert.Equal(32, ort.Stride);
        Assert.False(ort.DynamicShape);
        Assert.Equal(1, ort.FixedBatch);

        using var io = Strix.IO.Safetensors.Load(TestPaths.Fixture("ultralytics", "tiny_yolov8_io.safetensors"));
        var t = io.ToDictionary();
        using var y = ort.Forward(t["images"]);
        Assert.True(ExportTestModels.MaxAbsDiff(t["pred"], y) <= 1e-3f);

        // Same detections as our TorchSharp import of the same file.
        var (model, _, _) = OnnxImporter.Load(UltralyticsOnnx);
        using (model)
        using (var torchPred = ExportTestModels.FusedPredict(model, t["images"]))
        {
            Assert.True(ExportTestModels.MaxAbsDiff(torchPred, y) <= 1e-3f);
            var nms = new NmsOptions { Conf = 0.001 };
            var a = Nms.NonMaxSuppression(y, nms)[0];
            var b = Nms.NonMaxSuppression(torchPred, nms)[0];
            Assert.True(a.shape[0] > 0, "the fixture should give detections at conf 0.001");
            AssertSameDetections(a, b);
        }
    }

    [SkippableFact]
    public void OurExportImportsBackIntoTorchSharp()
    {
        // Exporter → the weights helper's ONNX importer → TorchSharp: the model survives the trip.
        using var m = ExportTestModels.Make(nc: 2, seed: 11);
        var p = Path.Combine(_dir, "roundtrip.onnx");
        OnnxExporter.Export(m, p, new OnnxExportOptions { ImageSize = 64, Names = new[] { "a", "b" } });
        var (back, meta, _) = OnnxImporter.Load(p);
        using (back)
        {
            Assert.Equal(new[] { "a", "b" }, meta.Names);
            using var x = rand(1, 3, 64, 96);
            using var expected = ExportTestModels.FusedPredict(m, x);
            using var y = ExportTestModels.FusedPredict(back, x);
            Assert.True(ExportTestModels.MaxAbsDiff(expected, y) <= 1e-4f);
        }
    }

    [SkippableFact]
    public void PredictorGivesTheSameResultsWithEitherBackend()
    {
        using var m = ExportTestModels.Make(nc: 3, seed: 13);
        var calib = new[] { "bus.jpg", "zidane.jpg" }.Select(f => Strix.Data.Letterbox.Apply(Strix.Data.ImageIO.Load(TestPaths.Asset("samples", f)), 160, 160).Image).ToList();
        using (var batch = Predictor.ToTensor(calib, CPU)) ExportTestModels.Calibrate(m, batch);
        var p = Path.Combine(_dir, "predict.onnx");
        var names = new[] { "a", "b", "c" };
        OnnxExporter.Export(m, p, new OnnxExportOptions { ImageSize = 160, Dynamic = true, Names = names });
        using var fused = new Strix.Models.DetectionModel(m.Scale, 3);
        fused.load_state_dict(m.state_dict());
        fused.Fuse();

        var sources = new[] { TestPaths.Asset("samples", "bus.jpg"), TestPaths.Asset("samples", "zidane.jpg") };
        var options = new PredictOptions { Conf = 0.25, KeepImages = false, Batch = 2 };
        using var ort = OnnxRuntimeBackend.Open(p);
        using var torchBackend = new TorchBackend(fused, names, imageSize: 160);
        var a = NewPredictor(ort, options).Predict(sources).ToList();
        var b = NewPredictor(torchBackend, options).Predict(sources).ToList();
        Assert.Equal(2, a.Count);
        int total = 0;
        for (int i = 0; i < a.Count; i++)
        {
            Assert.Equal(b[i].Path, a[i].Path);
            Assert.Equal(b[i].Count, a[i].Count);
            foreach (var d in a[i].Detections)
                Assert.Contains(b[i].Detections, e => e.ClassId == d.ClassId && Math.Abs(e.Confidence - d.Confidence) < 1e-4
                    && Math.Abs(e.Box.X1 - d.Box.X1) < 0.05 && Math.Abs(e.Box.Y1 - d.Box.Y1) < 0.05
                    && Math.Abs(e.Box.X2 - d.Box.X2) < 0.05 && Math.Abs(e.Box.Y2 - d.Box.Y2) < 0.05);
            total += a[i].Count;
        }
        Assert.True(total > 0, "the calibrated model should detect something");
    }

    [SkippableFact]
    public void FilesThatAreNotDetectorsGetClearErrors()
    {
        Assert.Throws<FileNotFoundException>(() => OnnxRuntimeBackend.Open(Path.Combine(_dir, "missing.onnx")));

        var notDetector = TestPaths.Fixture("onnx", "python_made.onnx"); // a 2-D MatMul graph
        var e = Assert.Throws<InvalidDataException>(() => OnnxRuntimeBackend.Open(notDetector));
        Assert.Contains("python_made.onnx", e.Message);

        var garbage = Path.Combine(_dir, "garbage.onnx");
        File.WriteAllBytes(garbage, new byte[] { 1, 2, 3, 4, 5 });
        Assert.Contains("garbage.onnx", Assert.Throws<InvalidDataException>(() => OnnxRuntimeBackend.Open(garbage)).Message);

        // Metadata that contradicts the graph.
        var proto = ModelProto.Load(UltralyticsOnnx);
        proto.MetadataProps.RemoveAll(p => p.Key == "names");
        proto.MetadataProps.Add(new StringStringEntryProto("names", "{0: 'only-one'}"));
        var wrongNames = Path.Combine(_dir, "wrong-names.onnx");
        proto.Save(wrongNames);
        var e2 = Assert.Throws<InvalidDataException>(() => OnnxRuntimeBackend.Open(wrongNames));
        Assert.Contains("3 classes", e2.Message);

        proto.MetadataProps.RemoveAll(p => p.Key == "names");
        proto.MetadataProps.Add(new StringStringEntryProto("task", "rtdetr"));
        var rtdetr = Path.Combine(_dir, "rtdetr.onnx");
        proto.Save(rtdetr);
        Assert.Contains("'rtdetr'", Assert.Throws<NotSupportedException>(() => OnnxRuntimeBackend.Open(rtdetr)).Message);

        // A pose file must say its keypoint shape, and the rows must fit it.
        proto.MetadataProps.RemoveAll(p => p.Key == "task");
        proto.MetadataProps.Add(new StringStringEntryProto("task", "pose"));
        var pose = Path.Combine(_dir, "pose.onnx");
        proto.Save(pose);
        Assert.Contains("without kpt_shape", Assert.Throws<InvalidDataException>(() => OnnxRuntimeBackend.Open(pose)).Message);
        proto.MetadataProps.Add(new StringStringEntryProto("kpt_shape", "[0, 3]"));
        proto.Save(pose);
        Assert.Contains("kpt_shape [0, 3]", Assert.Throws<InvalidDataException>(() => OnnxRuntimeBackend.Open(pose)).Message);
        proto.MetadataProps.RemoveAll(p => p.Key == "task" || p.Key == "kpt_shape");

        // A file claiming segmentation without the prototypes output.
        proto.MetadataProps.RemoveAll(p => p.Key == "task");
        proto.MetadataProps.Add(new StringStringEntryProto("task", "segment"));
        var seg = Path.Combine(_dir, "seg.onnx");
        proto.Save(seg);
        Assert.Contains("segmentation model with 1 outputs", Assert.Throws<InvalidDataException>(() => OnnxRuntimeBackend.Open(seg)).Message);
    }

    /// <summary>Damaged or hostile files an edge user may be handed: each is one clear error naming the file, before any native work on its claims.</summary>
    [SkippableTheory]
    [InlineData("no-outputs", "has no outputs")]
    [InlineData("stride=0", "metadata stride 0 is not a power of two")]
    [InlineData("stride=[-32]", "metadata stride -32 is not a power of two")]
    [InlineData("stride=48", "metadata stride 48 is not a power of two")]
    [InlineData("imgsz=[100000, 100000]", "metadata imgsz 100000 is outside 32..16384")]
    [InlineData("imgsz=[16, 16]", "metadata imgsz 16 is outside 32..16384")]
    [InlineData("names={0: 'a', 1:", "unreadable metadata")]
    [InlineData("names={}", "metadata names 0 classes")]
    [InlineData("truncated", "cannot load")]
    [InlineData("external-data", "cannot load")]
    [InlineData("unknown-op", "cannot load")]
    public void Hostile_files_get_one_clear_error(string damage, string fault)
    {
        var proto = ModelProto.Load(UltralyticsOnnx);
        var path = Path.Combine(_dir, $"{Guid.NewGuid():N}.onnx");
        void SetMeta(string key, string value)
        {
            proto.MetadataProps.RemoveAll(p => p.Key == key);
            proto.MetadataProps.Add(new StringStringEntryProto(key, value));
        }
        switch (damage)
        {
            case "no-outputs": proto.Graph!.Output.Clear(); break;
            case "external-data": // data "kept" outside the model folder: ONNX Runtime must refuse to read it
                var init = proto.Graph!.Initializer[0];
                init.RawData = null;
                init.FloatData.Clear();
                init.DataLocation = 1;
                init.ExternalData.Add(new StringStringEntryProto("location", "../../../../etc/passwd"));
                break;
            case "unknown-op": proto.Graph!.Node[0].OpType = "NoSuchOp"; break;
            case "truncated": break;
            default:
                var eq = damage.IndexOf('=');
                SetMeta(damage[..eq], damage[(eq + 1)..]);
                break;
        }
        proto.Save(path);
        if (damage == "truncated")
        {
            var bytes = File.ReadAllBytes(path);
            File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        }
        var e = Assert.ThrowsAny<Exception>(() => OnnxRuntimeBackend.Open(path));
        Assert.IsType<InvalidDataException>(e);
        Assert.Contains(path, e.Message);
        Assert.Contains(fault, e.Message);
    }

    /// <summary>A graph that loads but fails when run (a reshape its output cannot take) is an error naming the file and the input, not a native crash.</summary>
    [SkippableFact]
    public void A_graph_that_fails_at_run_time_names_the_file()
    {
        var proto = ModelProto.Load(UltralyticsOnnx);
        var g = proto.Graph!;
        var output = g.Output[0];
        g.Initializer.Add(TensorProto.FromInt64s("bad_shape", new long[] { 3 }, new long[] { 1, 7, 999 }));
        g.Node.Add(new NodeProto { OpType = "Reshape", Name = "broken", Input = { output.Name, "bad_shape" }, Output = { "reshaped" } });
        var shape = output.Type;
        g.Output.Clear();
        g.Output.Add(new ValueInfoProto { Name = "reshaped", Type = shape }); // still claims [1, 7, 84]-like, so loading succeeds
        var path = Path.Combine(_dir, "fails-at-run.onnx");
        proto.Save(path);
        using var ort = OnnxRuntimeBackend.Open(path);
        using var img = zeros(1, 3, 64, 64);
        var e = Assert.Throws<InvalidDataException>(() => ort.Forward(img));
        Assert.Contains(path, e.Message);
        Assert.Contains("[1, 3, 64, 64]", e.Message);
        Assert.Contains("Reshape", e.Message);
    }

    [SkippableFact]
    public void NamesFallBackToTheOutputWidthWithoutMetadata()
    {
        var proto = ModelProto.Load(UltralyticsOnnx);
        proto.MetadataProps.Clear();
        var p = Path.Combine(_dir, "nometa.onnx");
        proto.Save(p);
        using var ort = OnnxRuntimeBackend.Open(p);
        Assert.Equal(new[] { "class0", "class1", "class2" }, ort.Names);
        Assert.Equal(64, ort.ImageSize); // from the fixed input shape
        Assert.Equal(32, ort.Stride);
    }

    /// <summary>
    /// Same detections: every row of <paramref name="a"/> (x1, y1, x2, y2, conf, cls) pairs with its own row of
    /// <paramref name="b"/> of the same class whose box and confidence agree within the tolerances. Matching
    /// rather than comparing row by row, because near-equal confidences may sort either way.
    /// </summary>
    internal static void AssertSameDetections(Tensor a, Tensor b, float boxTol = 1e-2f, float confTol = 1e-4f)
    {
        Assert.Equal(b.shape, a.shape);
        var ra = a.cpu().to_type(ScalarType.Float32).data<float>().ToArray();
        var rb = b.cpu().to_type(ScalarType.Float32).data<float>().ToArray();
        int n = (int)a.shape[0];
        var used = new bool[n];
        for (int i = 0; i < n; i++)
        {
            int match = -1;
            for (int j = 0; j < n && match < 0; j++)
            {
                if (used[j] || ra[i * 6 + 5] != rb[j * 6 + 5] || Math.Abs(ra[i * 6 + 4] - rb[j * 6 + 4]) > confTol) continue;
                bool close = true;
                for (int k = 0; k < 4; k++) close &= Math.Abs(ra[i * 6 + k] - rb[j * 6 + k]) <= boxTol;
                if (close) match = j;
            }
            string Near()
            {
                var cands = Enumerable.Range(0, n).Where(j => rb[j * 6 + 5] == ra[i * 6 + 5])
                    .OrderBy(j => Enumerable.Range(0, 4).Max(k => Math.Abs(ra[i * 6 + k] - rb[j * 6 + k]))).Take(1)
                    .Select(j => $"closest same-class row {j}: conf {rb[j * 6 + 4]}, box {rb[j * 6]:F2},{rb[j * 6 + 1]:F2},{rb[j * 6 + 2]:F2},{rb[j * 6 + 3]:F2}");
                return string.Join("", cands);
            }
            Assert.True(match >= 0, $"detection {i} (class {ra[i * 6 + 5]}, conf {ra[i * 6 + 4]}, box {ra[i * 6]:F2},{ra[i * 6 + 1]:F2},{ra[i * 6 + 2]:F2},{ra[i * 6 + 3]:F2}) has no counterpart; {Near()}");
            used[match] = true;
        }
    }
}
