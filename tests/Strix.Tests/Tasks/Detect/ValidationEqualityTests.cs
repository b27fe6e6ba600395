using Strix.Cli.Commands;
using Strix.Config;
using Strix.Engine;
using Strix.Eval;
using Strix.Models;
using Strix.Tasks;
using Strix.Tasks.Detect;
using Strix.Tests.Models;
using static TorchSharp.torch;

namespace Strix.Tests.Tasks.Detect;

/// <summary>
/// One validation path: the numbers a training run reports for its last epoch equal what <c>strix val</c>
/// measures on the weights that epoch saved (same data, image size, batch), with and without <c>single_cls</c>.
/// </summary>
public class ValidationEqualityTests(Xunit.Abstractions.ITestOutputHelper output)
{
    /// <summary>A narrow model with calibrated batch norms whose class bias is zeroed, so it detects plenty above conf 0.001.</summary>
    static string DetectingWeights(string dir, int nc, IReadOnlyList<string> names)
    {
        using var m = TinyModels.WithStatistics(nc, seed: 1);
        using (no_grad())
            foreach (var (name, p) in m.named_parameters())
                if (name.Contains(".cv3.") && name.EndsWith(".2.bias")) p.zero_();
        var path = Path.Combine(dir, $"detecting{nc}.safetensors");
        WeightsFile.Save(m, path, ModelMetadata.For(m, names, 160));
        return path;
    }

    /// <summary>Keeps what the module's validator reported at the end of each in-training validation.</summary>
    sealed class LastValidation : Callback
    {
        public ValidationResult? Result;
        public override void OnValidationEnd(Trainer trainer, StrixModule module) => Result = ((DetectionModule)module).LastValidation;
    }

    static void AssertSameMetrics(DetectionResults expected, DetectionResults actual)
    {
        Assert.Equal(expected.Images, actual.Images);
        Assert.Equal(expected.Instances, actual.Instances);
        Assert.Equal(expected.Names, actual.Names);
        foreach (var (k, v) in expected.ToDictionary())
            Assert.True(Math.Abs(v - actual.ToDictionary()[k]) <= 1e-6, $"{k}: training {v:R}, strix val {actual.ToDictionary()[k]:R}");
        Assert.Equal(expected.Ap5095.Count, actual.Ap5095.Count);
        for (int c = 0; c < expected.Ap5095.Count; c++) Assert.Equal(expected.Ap5095[c], actual.Ap5095[c], 6);
    }

    [SkippableTheory]
    [InlineData("coco128.yaml", false)]
    [InlineData("coco128.yaml", true)]
    public void In_training_validation_equals_strix_val_on_the_saved_weights(string dataset, bool singleCls)
    {
        var data = TestPaths.Asset(dataset);
        Requires.Available(File.Exists(data), $"the shared test data {data} (../shared/assets beside the checkout: coco8, coco128)");
        var dir = TestPaths.NewTempDir();
        var names = Strix.Data.DatasetConfig.Load(data).Names;
        var weights = singleCls ? DetectingWeights(dir, 1, new[] { "item" }) : DetectingWeights(dir, names.Length, names);
        var seen = new LastValidation();
        // A few small SGD steps: the weights move, and validation sees the EMA of them, as every run does.
        var train = YoloTraining.Run(ConfigRecords.Parse<TrainConfig>(new Dictionary<string, string>
        {
            ["data"] = data, ["model"] = weights, ["epochs"] = "1", ["imgsz"] = "160", ["batch"] = "4", ["workers"] = "0",
            ["optimizer"] = "SGD", ["lr0"] = "0.001", ["warmup_epochs"] = "0", ["limit_train_batches"] = "2", ["plots"] = "false",
            ["single_cls"] = singleCls ? "true" : "false", ["project"] = Path.Combine(dir, "runs"), ["name"] = "train",
        }), TextWriter.Null, new[] { seen });
        var inTraining = seen.Result!.Metrics;
        Assert.True(inTraining.Map50 > 0, "the model should find something (else the comparison proves little)");
        if (singleCls) Assert.Equal(new[] { "item" }, inTraining.Names);

        var val = new ValCommand();
        Assert.Equal(0, val.Run(new[]
        {
            $"model={train.LastPath}", $"data={data}", "imgsz=160", "batch=8", "workers=0", "plots=false", // training validates with 2 × batch
            $"single_cls={(singleCls ? "true" : "false")}", $"project={Path.Combine(dir, "val")}", "name=val",
        }));
        var cli = val.LastResult!.Metrics;
        output.WriteLine($"{dataset} single_cls={singleCls}: training mAP50 {inTraining.Map50:R} mAP50-95 {inTraining.Map:R}; strix val mAP50 {cli.Map50:R} mAP50-95 {cli.Map:R}");
        AssertSameMetrics(inTraining, cli);
        // Folding the batch norms (fuse=true) changes the arithmetic, not the model: close, not equal.
        Assert.Equal(0, val.Run(new[]
        {
            $"model={train.LastPath}", $"data={data}", "imgsz=160", "batch=8", "workers=0", "plots=false", "fuse=true",
            $"single_cls={(singleCls ? "true" : "false")}", $"project={Path.Combine(dir, "val")}", "name=fused",
        }));
        Assert.InRange(Math.Abs(val.LastResult!.Metrics.Map - inTraining.Map), 0, 1e-3);
        // The final evaluation of the run used the same path on best (here also the last epoch's weights).
        Assert.Equal(inTraining.Map, train.FinalMetrics["metrics/mAP50-95(B)"], 6);
    }

    /// <summary><c>strix val single_cls=true</c> takes any model: every prediction and label counts as one class.</summary>
    [SkippableFact]
    public void Strix_val_single_cls_on_an_80_class_model_reports_one_class()
    {
        var data = TestPaths.Asset("coco128.yaml");
        Requires.Available(File.Exists(data), $"the shared test data {data} (../shared/assets beside the checkout)");
        var dir = TestPaths.NewTempDir();
        var names = Strix.Data.DatasetConfig.Load(data).Names;
        var weights = DetectingWeights(dir, 80, names);
        var val = new ValCommand();
        Assert.Equal(0, val.Run(new[] { $"model={weights}", $"data={data}", "imgsz=160", "batch=16", "workers=0", "plots=false", "single_cls=true", $"project={dir}" }));
        var one = val.LastResult!.Metrics;
        Assert.Equal(new[] { "item" }, one.Names);
        Assert.Single(one.InstancesPerClass);
        Assert.Equal(929, one.Instances); // coco128's labels, all in the one class

        Assert.Equal(0, val.Run(new[] { $"model={weights}", $"data={data}", "imgsz=160", "batch=16", "workers=0", "plots=false", $"project={dir}" }));
        var all = val.LastResult!.Metrics;
        Assert.Equal(929, all.Instances);
        Assert.Equal(80, all.InstancesPerClass.Count);
        Assert.Equal(all.InstancesPerClass.Sum(), one.InstancesPerClass[0]);
    }
}
