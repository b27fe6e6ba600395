using System.Globalization;
using Strix.Config;
using Strix.Data;
using Strix.Models;
using Strix.Tasks;
using Strix.Tests.Models.Architecture;

namespace Strix.Tests.Tasks;

/// <summary>Training from a model YAML (a YOLO11-style file): the whole loop runs, learns, saves and resumes that architecture.</summary>
public class Yolo11TrainingTests
{
    static readonly ShapesOptions Small = new() { Seed = 5, Train = 8, Val = 4, ImageSize = 96 };

    static TrainConfig Args(string dir, string model, params (string, string)[] extra)
    {
        var kv = new Dictionary<string, string>
        {
            ["data"] = ShapesDataset.Ensure(dir, Small), ["model"] = model, ["imgsz"] = "64", ["batch"] = "4", ["workers"] = "0",
            ["project"] = Path.Combine(dir, "runs"), ["name"] = "train", ["plots"] = "false", ["seed"] = "1",
        };
        foreach (var (k, v) in extra) kv[k] = v;
        return ConfigRecords.Parse<TrainConfig>(kv);
    }

    static double[] Column(string csv, string name)
    {
        var lines = File.ReadAllLines(csv);
        int col = Array.IndexOf(lines[0].Split(','), name);
        return lines.Skip(1).Select(l => double.Parse(l.Split(',')[col], CultureInfo.InvariantCulture)).ToArray();
    }

    [Fact]
    public void A_yaml_model_trains_learns_and_its_checkpoints_rebuild_the_architecture()
    {
        var dir = TestPaths.NewTempDir();
        var yaml = Path.Combine(dir, "bolts.yaml");
        File.WriteAllText(yaml, ModelYamlTests.Custom);
        var args = Args(dir, yaml, ("epochs", "20"), ("overfit_batches", "1"), ("optimizer", "AdamW"), ("lr0", "0.01"),
            ("warmup_epochs", "0"), ("nbs", "4"), ("mosaic", "0"), ("val", "false"));
        var r = YoloTraining.Run(args, TextWriter.Null);
        var csv = Path.Combine(r.RunDir, "results.csv");
        var loss = Column(csv, "train/box_loss").Zip(Column(csv, "train/cls_loss"), (a, b) => a + b)
            .Zip(Column(csv, "train/dfl_loss"), (a, b) => a + b).ToArray();
        Assert.Equal(20, loss.Length);
        // A fresh detector assigns few positives at first, so the loss climbs before it falls; it must fall far from its peak.
        Assert.True(loss[^1] < 0.25 * loss.Max(), $"loss {string.Join(", ", loss.Select(l => l.ToString("0.###", CultureInfo.InvariantCulture)))}");

        // The last checkpoint holds the architecture: it loads without the YAML and resumes.
        File.Delete(yaml);
        using var last = ModelLoader.Load(r.LastPath!);
        Assert.Equal("bolts", last.Model.Name);
        Assert.False(last.Model.Head.Legacy);
        Assert.Equal(ShapesDataset.ClassNames.Length, last.Model.NumClasses);
        var resumed = YoloTraining.Run(Args(dir, r.LastPath!, ("resume", "true"), ("epochs", "22")), TextWriter.Null);
        Assert.Equal(22, Column(Path.Combine(resumed.RunDir, "results.csv"), "train/box_loss").Length);
    }
}
