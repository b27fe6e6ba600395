using System.Globalization;
using Strix.Engine;
using Strix.Config;
using Strix.Tasks;
using Strix.Tasks.Detect;
using Strix.Models;
using Strix.Tests.Engine;

namespace Strix.Tests.Tasks;

public class YoloTrainingTests(Xunit.Abstractions.ITestOutputHelper output)
{
    static string Coco8 => TestPaths.Asset("coco8.yaml");

    /// <summary>A narrow detector (width 0.125) saved as a Strix weights file, fast enough for tests.</summary>
    static string TinyModel(string dir, int nc = 80)
    {
        using var m = new DetectionModel(new YoloScale("tiny", 0.33, 0.125, 256), nc);
        var path = Path.Combine(dir, "tiny.safetensors");
        WeightsFile.Save(m, path, ModelMetadata.For(m));
        return path;
    }

    static TrainConfig Args(string dir, params (string, string)[] extra)
    {
        var kv = new Dictionary<string, string>
        {
            ["data"] = Coco8, ["model"] = TinyModel(dir), ["imgsz"] = "160", ["batch"] = "4", ["workers"] = "0",
            ["project"] = Path.Combine(dir, "runs"), ["name"] = "train",
        };
        foreach (var (k, v) in extra) kv[k] = v;
        return ConfigRecords.Parse<TrainConfig>(kv);
    }

    static double[] TrainLoss(string resultsCsv)
    {
        var lines = File.ReadAllLines(resultsCsv);
        var header = lines[0].Split(',');
        int[] cols = { Array.IndexOf(header, "train/box_loss"), Array.IndexOf(header, "train/cls_loss"), Array.IndexOf(header, "train/dfl_loss") };
        return lines.Skip(1).Select(l => l.Split(',')).Select(c => cols.Sum(i => double.Parse(c[i], CultureInfo.InvariantCulture))).ToArray();
    }

    /// <summary>The issue's acceptance test: one coco8 batch, narrow model, imgsz 160 — loss down ≥ 80% within 60 steps.</summary>
    [SkippableFact]
    public void Overfitting_one_coco8_batch_cuts_the_loss_by_80_percent_in_60_steps()
    {
        var dir = TestPaths.NewTempDir();
        var args = Args(dir, ("overfit_batches", "1"), ("epochs", "60"), ("optimizer", "AdamW"), ("lr0", "0.01"),
            ("warmup_epochs", "0"), ("nbs", "4"), ("val", "false"), ("plots", "false"), ("mosaic", "0"));
        var stopper = new StopWhenLossFalls(0.2);
        var r = YoloTraining.Run(args, TextWriter.Null, new[] { stopper });
        var loss = TrainLoss(Path.Combine(r.RunDir, "results.csv"));
        output.WriteLine($"train loss by step: {string.Join(", ", loss.Select(l => l.ToString("0.##", CultureInfo.InvariantCulture)))}");
        Assert.True(r.Fit.GlobalStep <= 60);
        Assert.Equal(r.Fit.GlobalStep, loss.Length); // one step per epoch
        Assert.True(loss[^1] <= 0.2 * loss[0], $"loss {loss[0]:0.###} → {loss[^1]:0.###} ({100 * (1 - loss[^1] / loss[0]):0}% lower) in {loss.Length} steps");
    }

    /// <summary>Ends the run as soon as the epoch's total training loss is ≤ fraction × the first epoch's.</summary>
    sealed class StopWhenLossFalls(double fraction) : Callback
    {
        double? _first;
        public override void OnTrainEpochEnd(Trainer trainer, StrixModule module)
        {
            var m = trainer.CallbackMetrics;
            double loss = m["train/box_loss"] + m["train/cls_loss"] + m["train/dfl_loss"];
            _first ??= loss;
            if (loss <= fraction * _first) trainer.Stop("loss target reached");
        }
    }

    [SkippableFact]
    public void Fast_dev_run_trains_one_batch_validates_one_batch_and_writes_nothing()
    {
        var dir = TestPaths.NewTempDir();
        var rec = new OrderRecorder();
        var r = YoloTraining.Run(Args(dir, ("fast_dev_run", "true"), ("epochs", "5")), TextWriter.Null, new[] { rec });
        Assert.Equal(1, rec.Events.Count(e => e == "OnTrainBatchStart"));
        Assert.Equal(1, rec.Events.Count(e => e == "OnValidationBatchStart"));
        Assert.Equal(1, r.Fit.EpochsCompleted);
        Assert.Null(r.BestPath);
        Assert.Null(r.LastPath);
        Assert.False(Directory.Exists(Path.Combine(dir, "runs")));
        Assert.False(Directory.Exists(r.RunDir));
    }

    [SkippableFact]
    public void Profiler_simple_times_forward_loss_and_assigner_and_writes_profile_json()
    {
        var dir = TestPaths.NewTempDir();
        var log = new StringWriter();
        var r = YoloTraining.Run(Args(dir, ("profiler", "simple"), ("epochs", "1"), ("batch", "2"), ("plots", "false")), log);
        Assert.Contains("Profiler Report", log.ToString());
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(r.RunDir, "profile.json")))!;
        var calls = json["actions"]!.AsArray().ToDictionary(a => (string)a!["action"]!, a => (long)a!["calls"]!);
        Assert.Equal(2, calls["training_step"]);
        Assert.Equal(2, calls["training_step/forward"]);
        Assert.Equal(2, calls["training_step/loss"]);
        Assert.Equal(1, calls["validation"]);
        // The assigner runs for each training batch and for each validation batch's loss (coco8: 4 train images in two batches of 2, 4 val images in one batch of 4).
        Assert.Equal(3, calls["loss/assigner"]);
        Assert.True((double)json["cpu_s_total"]! > 0);
    }

    [SkippableFact]
    public void Fine_tuning_on_different_classes_transfers_matching_tensors_and_says_how_many()
    {
        var dir = TestPaths.NewTempDir();
        var log = new StringWriter();
        var r = YoloTraining.Run(Args(dir, ("fast_dev_run", "true"), ("single_cls", "true")), log); // 80-class weights, 1-class data
        Assert.Matches(@"Transferred \d+/\d+ items from tiny\.safetensors", log.ToString());
        Assert.Contains("class count changed from 80 to 1", log.ToString());
        Assert.Equal(1, r.Fit.GlobalStep);
    }

    /// <summary>
    /// A short run writes a complete run folder; best loads as a plain weights file; the run then resumes
    /// from last with more epochs and continues the same results.csv.
    /// </summary>
    [SkippableFact]
    public void A_run_writes_its_folder_and_resumes_with_more_epochs()
    {
        var dir = TestPaths.NewTempDir();
        var log = new StringWriter();
        var r = YoloTraining.Run(Args(dir, ("epochs", "2"), ("nbs", "4"), ("close_mosaic", "0")), log);
        Assert.Equal(Path.Combine(dir, "runs", "train"), r.RunDir);
        foreach (var f in new[] { "args.yaml", "results.csv", "results.png", "labels.jpg", "train_batch0.jpg", "train_batch1.jpg",
                     "confusion_matrix.png", "PR_curve.png", "val_batch0_labels.jpg", "val_batch0_pred.jpg", Path.Combine("weights", "last.safetensors"), Path.Combine("weights", "best.safetensors") })
            Assert.True(File.Exists(Path.Combine(r.RunDir, f)), $"{f} missing");
        Assert.Single(Directory.GetFiles(r.RunDir, "events.out.tfevents.*"));
        var header = File.ReadAllLines(Path.Combine(r.RunDir, "results.csv"))[0];
        Assert.Equal("epoch," + string.Join(",", DetectionModule.Columns), header);
        Assert.Contains("optimizer: AdamW(lr=0.000119, momentum=0.9)", log.ToString()); // auto: few iterations → AdamW, lr fit for nc = 80
        var yaml = RunDirectory.ReadArgs(Path.Combine(r.RunDir, "args.yaml"));
        Assert.Equal("2", yaml["epochs"]);
        Assert.Equal(r.RunDir, yaml["save_dir"]);

        using (var best = ModelLoader.Load(r.BestPath!))
            Assert.Equal(80, best.Model.NumClasses);
        using (var last = ModelLoader.Load(r.LastPath!)) // the training state under train/… is skipped
            Assert.Equal(80, last.Model.NumClasses);

        var resumed = YoloTraining.Run(ConfigRecords.Parse<TrainConfig>(new Dictionary<string, string> { ["resume"] = r.LastPath!, ["epochs"] = "3", ["imgsz"] = "320" }), log);
        Assert.Equal(r.RunDir, resumed.RunDir);
        Assert.Equal(3, resumed.Fit.EpochsCompleted);
        Assert.Equal(4, File.ReadAllLines(Path.Combine(r.RunDir, "results.csv")).Length);
        Assert.Contains("imgsz=320 is ignored when resuming", log.ToString());
    }
}

public class YoloOptimizerTests
{
    [SkippableTheory]
    [InlineData(10001, 80, "SGD", 0.01)]
    [InlineData(10000, 80, "AdamW", 0.000119)] // round(0.002·5/84, 6)
    [InlineData(500, 6, "AdamW", 0.001)]       // round(0.01/10, 6)
    [InlineData(500, 1, "AdamW", 0.002)]
    public void Auto_optimizer_follows_ultralytics(long iterations, int nc, string name, double lr)
    {
        var (n, l, m) = YoloOptimizer.AutoOptimizer(iterations, nc);
        Assert.Equal(name, n);
        Assert.Equal(lr, l, 12);
        Assert.Equal(0.9, m);
    }

    [SkippableTheory]
    [InlineData(16, 4, 0.0005)]
    [InlineData(64, 1, 0.0005)]
    [InlineData(8, 8, 0.0005)]
    [InlineData(24, 3, 0.0005 * 72 / 64)]   // round(64/24) = 3
    [InlineData(128, 1, 0.001)]             // batch above nbs: decay scales up
    public void Nominal_batch_sets_accumulation_and_scales_weight_decay(int batch, int accumulate, double decay)
    {
        var (a, d) = YoloOptimizer.NominalBatch(batch, 64, 0.0005);
        Assert.Equal(accumulate, a);
        Assert.Equal(decay, d, 12);
    }
}

/// <summary>Industrial datasets are mostly background (good parts): training on them warns and carries on, as Ultralytics does.</summary>
public class BackgroundImageTrainingTests
{
    static TrainConfig Args(string yaml, string dir) => ConfigRecords.Parse<TrainConfig>(new Dictionary<string, string>
    {
        ["data"] = yaml, ["model"] = "yolov8n", ["epochs"] = "1", ["imgsz"] = "64", ["batch"] = "2", ["workers"] = "0",
        ["project"] = Path.Combine(dir, "runs"), ["name"] = "train", ["plots"] = "true",
    });

    [Theory]
    [InlineData(1)] // one labelled image among background ones (the train batch plots hold empty images)
    [InlineData(0)] // nothing labelled at all: validation has no instances, the confusion matrix is empty
    public void Mostly_or_only_background_images_train_validate_and_plot(int labelled)
    {
        var dir = TestPaths.NewTempDir();
        var images = Enumerable.Range(0, 6).Select(i => new Strix.Tests.Data.DataFixtures.Img($"good{i}.png", 64, 64,
            i < labelled ? "0 0.5 0.5 0.3 0.3\n" : null)).ToList();
        var yaml = Strix.Tests.Data.DataFixtures.Make(dir, images, nc: 2);
        var log = new StringWriter();
        var r = YoloTraining.Run(Args(yaml, dir), log);
        Assert.Equal(1, r.Fit.EpochsCompleted);
        Assert.NotNull(r.BestPath);
        Assert.Equal(0.0, r.FinalMetrics["metrics/mAP50-95(B)"]);
        foreach (var f in new[] { "train_batch0.jpg", "labels.jpg", "confusion_matrix.png", "confusion_matrix_normalized.png", "PR_curve.png", "val_batch0_labels.jpg" })
            Assert.True(File.Exists(Path.Combine(r.RunDir, f)), $"{f} missing");
        if (labelled == 0)
        {
            Assert.Contains("no labels found", log.ToString());
            Assert.Contains("no labels found in the validation set", log.ToString());
        }
    }
}

public class ResumeWithMovedDataTests
{
    /// <summary>A run whose dataset moved resumes when <c>data=</c> names the new place; without it the message names the missing file.</summary>
    [Fact]
    public void A_moved_dataset_is_named_anew_on_resume()
    {
        var dir = TestPaths.NewTempDir();
        var images = Enumerable.Range(0, 4).Select(i => new Strix.Tests.Data.DataFixtures.Img($"p{i}.png", 64, 64, "0 0.5 0.5 0.3 0.3\n")).ToList();
        var yaml = Strix.Tests.Data.DataFixtures.Make(Path.Combine(dir, "old"), images, nc: 2);
        var first = YoloTraining.Run(ConfigRecords.Parse<TrainConfig>(new Dictionary<string, string>
        {
            ["data"] = yaml, ["model"] = "yolov8n", ["epochs"] = "1", ["imgsz"] = "64", ["batch"] = "2", ["workers"] = "0",
            ["plots"] = "false", ["project"] = Path.Combine(dir, "runs"), ["name"] = "train",
        }), TextWriter.Null);
        Directory.Move(Path.Combine(dir, "old"), Path.Combine(dir, "new"));

        var lost = Assert.ThrowsAny<IOException>(() => YoloTraining.Run(ConfigRecords.Parse<TrainConfig>(new[] { $"resume={first.LastPath}", "epochs=2" }), TextWriter.Null));
        Assert.Contains(yaml, lost.Message);
        var resumed = YoloTraining.Run(ConfigRecords.Parse<TrainConfig>(new[]
        {
            $"resume={first.LastPath}", "epochs=2", $"data={Path.Combine(dir, "new", "data.yaml")}",
        }), TextWriter.Null);
        Assert.Equal(2, resumed.Fit.EpochsCompleted);
        Assert.Equal(first.RunDir, resumed.RunDir);
    }
}

public class CloseMosaicNoticeTests
{
    /// <summary>Ultralytics says "Closing dataloader mosaic" as the last close_mosaic epochs begin; so do we, once.</summary>
    [Fact]
    public void The_switch_to_plain_images_is_announced_once()
    {
        var dir = TestPaths.NewTempDir();
        var images = Enumerable.Range(0, 4).Select(i => new Strix.Tests.Data.DataFixtures.Img($"p{i}.png", 64, 64, "0 0.5 0.5 0.3 0.3\n")).ToList();
        var yaml = Strix.Tests.Data.DataFixtures.Make(dir, images, nc: 2);
        var log = new StringWriter();
        YoloTraining.Run(ConfigRecords.Parse<TrainConfig>(new Dictionary<string, string>
        {
            ["data"] = yaml, ["model"] = "yolov8n", ["epochs"] = "3", ["close_mosaic"] = "1", ["imgsz"] = "64", ["batch"] = "2",
            ["workers"] = "0", ["plots"] = "false", ["val"] = "false", ["project"] = Path.Combine(dir, "runs"),
        }), log);
        var text = log.ToString();
        Assert.Equal(1, text.Split("Closing dataloader mosaic").Length - 1);
        Assert.True(text.IndexOf("Closing dataloader mosaic", StringComparison.Ordinal) > text.IndexOf("2/3", StringComparison.Ordinal),
            "the notice comes as epoch 3 (the last, mosaic off) begins");
    }
}
