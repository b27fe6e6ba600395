using Strix.Data;
using Strix.Models;
using static TorchSharp.torch;

namespace Strix.Tests.Models;

public class ModelLoaderTests
{
    static string Pt => TestPaths.Fixture("ultralytics", "tiny_yolov8.pt");

    [Fact]
    public void ScaleNamesBuildFreshModelsWithDefaultNames()
    {
        using (var coco = ModelLoader.Load("yolov8n.yaml"))
        {
            Assert.Equal(YoloScale.N, coco.Model.Scale);
            Assert.Equal(80, coco.Model.NumClasses);
            Assert.Equal(CocoNames.All, coco.Metadata.Names);
            Assert.Equal("person", coco.Metadata.Names[0]);
            Assert.Null(coco.Report);
        }
        using var three = ModelLoader.Load("yolov8n", nc: 3);
        Assert.Equal(new[] { "class0", "class1", "class2" }, three.Metadata.Names);
    }

    [Fact]
    public void DispatchesOnExtensionAndReports()
    {
        var logs = new List<string>();
        using (var pt = ModelLoader.Load(Pt, log: logs.Add))
        {
            Assert.NotNull(pt.Report);
            Assert.True(pt.Report!.Complete);
            Assert.Equal(new[] { "bolt", "nut", "washer" }, pt.Metadata.Names);
            Assert.StartsWith($"Transferred {pt.Report.Loaded}/{pt.Report.Loaded} items from tiny_yolov8.pt", Assert.Single(logs));

            var dir = TestPaths.NewTempDir();
            var st = Path.Combine(dir, "best.safetensors");
            WeightsFile.Save(pt.Model, st, pt.Metadata);
            using var again = ModelLoader.Load(st);
            Assert.Equal(pt.Metadata.Names, again.Metadata.Names);
            Assert.Equal(pt.Metadata.TrainArgs["epochs"], again.Metadata.TrainArgs["epochs"]);
            using var x = rand(1, 3, 64, 64);
            using var a = pt.Model.Predict(x);
            using var b = again.Model.Predict(x);
            Assert.Equal(0f, TinyModels.MaxAbsDiff(a, b));
        }
        using var onnx = ModelLoader.Load(TestPaths.Fixture("ultralytics", "tiny_yolov8.onnx"));
        Assert.True(onnx.Model.IsFused);
    }

    [Fact]
    public void NewClassCountKeepsEverythingButTheClassOutputs()
    {
        using var original = ModelLoader.Load(Pt);
        using var retargeted = ModelLoader.Load(Pt, nc: 5);
        Assert.Equal(5, retargeted.Model.NumClasses);
        Assert.Equal(original.Model.Scale, retargeted.Model.Scale);
        var report = retargeted.Report!;
        // Only the three 1×1 class convolutions (weight + bias) change shape.
        Assert.Equal(new[] { "model.22.cv3.0.2.weight", "model.22.cv3.0.2.bias", "model.22.cv3.1.2.weight", "model.22.cv3.1.2.bias", "model.22.cv3.2.2.weight", "model.22.cv3.2.2.bias" }.Order(),
                     report.Missing.Order());
        Assert.Equal(original.Model.state_dict().Count - 6, report.Loaded);
        var a = original.Model.state_dict();
        var b = retargeted.Model.state_dict();
        using var same = a["model.21.cv2.conv.weight"].eq(b["model.21.cv2.conv.weight"]).all();
        Assert.True(same.item<bool>());
        Assert.Equal("tiny_yolov8.pt", retargeted.Metadata.Extra["pretrained_from"]);
        Assert.Equal(5, retargeted.Metadata.Names.Count);
    }

    [Fact]
    public void UnknownArgumentsAndMissingFilesAreExplained()
    {
        var e1 = Assert.Throws<FileNotFoundException>(() => ModelLoader.Load("yolov8n.pt"));
        Assert.Contains("does not download", e1.Message);
        Assert.Contains("model=yolov8n", e1.Message);
        Assert.Throws<ArgumentException>(() => ModelLoader.Load("weights.bin"));
        Assert.Throws<ArgumentException>(() => ModelLoader.Load("yolov9c"));
        Assert.Throws<ArgumentException>(() => ModelLoader.Load(TestPaths.Fixture("ultralytics", "tiny_yolov8.onnx"), nc: 5));
    }
}
