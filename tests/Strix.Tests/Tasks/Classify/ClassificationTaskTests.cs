using System.Globalization;
using Strix.Config;
using Strix.Data;
using Strix.Models;
using Strix.Tasks;
using Strix.Tasks.Classify;
using Strix.Tests.Data;
using static TorchSharp.torch;

namespace Strix.Tests.Tasks.Classify;

public class ClassificationTaskTests(Xunit.Abstractions.ITestOutputHelper output)
{
    static ValidatorOptions Quiet => new() { Log = null, Plots = false };

    static Tensor Logits(params float[][] rows) => tensor(rows.SelectMany(r => r).ToArray(), new long[] { rows.Length, rows[0].Length });

    [Fact]
    public void Top1_and_top5_count_where_the_true_class_ranks()
    {
        var v = new ClassificationValidator(Enumerable.Range(0, 6).Select(i => $"c{i}").ToArray(), Quiet);
        v.Begin();
        using var logits = Logits(
            new float[] { 0, 0, 9, 1, 0, 0 },  // true 2: first
            new float[] { 5, 4, 3, 2, 1, 0 },  // true 3: fourth (top-5 only)
            new float[] { 5, 4, 3, 2, 1, 0 }); // true 5: sixth (neither)
        using var truth = tensor(new float[] { 2, 3, 5 });
        v.Add(logits, truth);
        var r = v.End();
        Assert.Equal(1.0 / 3, r.Metrics.Top1, 12);
        Assert.Equal(2.0 / 3, r.Metrics.Top5, 12);
        Assert.Equal(0.5, r.Metrics.Fitness, 12);
        Assert.Null(r.Loss);
        var m = r.Confusion.Matrix;
        Assert.Equal(6, r.Confusion.Size);
        Assert.Equal(1, m[2, 2]);
        Assert.Equal(1, m[0, 3]);
        Assert.Equal(1, m[0, 5]);
        Assert.Equal(3, m.Cast<double>().Sum());
    }

    [Fact]
    public void Fewer_than_five_classes_make_top5_certain_and_shards_merge_to_the_whole()
    {
        var names = new[] { "a", "b", "c" };
        using var logits = Logits(new float[] { 1, 2, 3 }, new float[] { 3, 2, 1 }, new float[] { 0, 5, 0 }, new float[] { 1, 0, 0 });
        using var truth = tensor(new float[] { 2, 1, 1, 2 });
        var whole = new ClassificationValidator(names, Quiet);
        whole.Begin();
        whole.Add(logits, truth);
        var expected = whole.End();
        Assert.Equal(0.5, expected.Metrics.Top1, 12);
        Assert.Equal(1.0, expected.Metrics.Top5, 12);

        var a = new ClassificationValidator(names, Quiet);
        var b = new ClassificationValidator(names, Quiet);
        a.Begin(); b.Begin();
        a.Add(logits[..1], truth[..1]);
        b.Add(logits[1..], truth[1..]);
        var merged = new ClassificationValidator(names, Quiet);
        merged.MergeShards(new[] { a.ExportShard(), b.ExportShard() });
        var r = merged.End();
        Assert.Equal(expected.Metrics, r.Metrics);
        Assert.Equal(expected.Confusion.Matrix.Cast<double>(), r.Confusion.Matrix.Cast<double>());
        var wrong = new ClassificationValidator(new[] { "a", "b" }, Quiet);
        Assert.Throws<InvalidDataException>(() => wrong.MergeShards(new[] { a.ExportShard() }));
    }

    [Fact]
    public void The_loss_is_the_mean_cross_entropy()
    {
        using var logits = Logits(new float[] { 2, 0, 0 }, new float[] { 0, 0, 0 });
        using var batch = new Batch { Images = zeros(2, 3, 4, 4, ScalarType.Byte), Cls = tensor(new float[] { 0, 1 }), BatchIdx = zeros(2), Bboxes = zeros(2, 4), Count = 2 };
        using var loss = ClassificationModule.Loss(logits, batch);
        double expected = (Math.Log(1 + 2 * Math.Exp(-2)) + Math.Log(3)) / 2;
        Assert.Equal(expected, loss.item<float>(), 5);
    }

    [Fact]
    public void The_task_follows_the_model_name_and_classification_defaults_to_224()
    {
        var args = ConfigRecords.Parse<TrainConfig>(new Dictionary<string, string> { ["model"] = "yolo11n-cls" });
        var task = YoloTasks.For(args);
        Assert.Equal("classify", task.Name);
        var withDefaults = task.WithDefaults(args);
        Assert.Equal(224, withDefaults.ImgSz);
        Assert.Equal("shapes-cls", withDefaults.Data);
        var given = task.WithDefaults(ConfigRecords.Parse<TrainConfig>(new Dictionary<string, string> { ["model"] = "yolov8n-cls", ["imgsz"] = "64" }));
        Assert.Equal(64, given.ImgSz);
        Assert.Equal("detect", YoloTasks.For(ConfigRecords.Parse<TrainConfig>(new Dictionary<string, string> { ["model"] = "yolov8n" })).Name);
    }

    [Fact]
    public void A_classifier_trains_on_class_folders_and_its_weights_reload_as_a_classifier()
    {
        var root = TestPaths.NewTempDir("cls-train");
        var rng = new Random(4);
        foreach (var split in new[] { "train", "val" })
            for (int i = 0; i < (split == "train" ? 24 : 8); i++)
            {
                byte n() => (byte)rng.Next(0, 40);
                var dir = Path.Combine(root, split);
                Directory.CreateDirectory(Path.Combine(dir, "red")); Directory.CreateDirectory(Path.Combine(dir, "blue"));
                ImageIO.Save(RgbImage.Filled(40, 32, (byte)(200 + n()), n(), n()), Path.Combine(dir, "red", $"{i}.png"), 100);
                ImageIO.Save(RgbImage.Filled(32, 40, n(), n(), (byte)(200 + n())), Path.Combine(dir, "blue", $"{i}.png"), 100);
            }
        var args = ConfigRecords.Parse<TrainConfig>(new Dictionary<string, string>
        {
            ["task"] = "classify", ["data"] = root, ["model"] = "yolov8n-cls", ["imgsz"] = "32", ["batch"] = "8", ["nbs"] = "8",
            ["epochs"] = "20", ["workers"] = "1", ["optimizer"] = "AdamW", ["lr0"] = "0.001", ["warmup_epochs"] = "0",
            ["project"] = Path.Combine(root, "runs"), ["name"] = "train", ["plots"] = "false",
        });
        var log = new StringWriter();
        var result = YoloTraining.Run(args, log);
        output.WriteLine(log.ToString());

        var csv = File.ReadAllLines(Path.Combine(result.RunDir, "results.csv"));
        var header = csv[0].Split(',').Select(h => h.Trim()).ToArray();
        Assert.Equal(new[] { "epoch" }.Concat(ClassificationModule.Columns), header);
        var rows = csv.Skip(1).Select(l => l.Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray()).ToArray();
        Assert.Equal(20, rows.Length);
        double[] losses = rows.Select(r => r[1]).ToArray(), top1 = rows.Select(r => r[2]).ToArray();
        Assert.True(losses[^3..].Average() < losses[..3].Average() / 2, $"train/loss did not fall: {string.Join(", ", losses)}");
        // From scratch, a few dozen steps leave batch norm's running statistics far from the data's, so eval-mode
        // accuracy jumps between epochs; the best epoch is kept, and it must separate the two colours.
        Assert.True(top1.Max() >= 0.875, $"top-1 never passed 0.875: {string.Join(", ", top1)}");
        Assert.Equal(top1.Max(), result.FinalMetrics["metrics/accuracy_top1"], 6); // best = the highest fitness, re-validated
        Assert.Equal(1.0, result.FinalMetrics["metrics/accuracy_top5"], 6);
        Assert.Contains("top1_acc", log.ToString());

        var loaded = ModelLoader.Load(result.BestPath!, null, _ => { });
        using (loaded)
        {
            Assert.Equal("classify", loaded.Model.Task);
            Assert.Equal("classify", loaded.Metadata.Task);
            Assert.Equal(new[] { "blue", "red" }, loaded.Metadata.Names);
        }
    }
}
