using System.Globalization;
using Strix.Config;
using Strix.Data;
using Strix.Models;
using Strix.Tasks;
using Strix.Tasks.Segment;

namespace Strix.Tests.Tasks.Segment;

/// <summary><c>task=segment</c> end to end on a tiny shapes-seg: polygons in, the seg loss trained, box and mask metrics out.</summary>
public class SegmentTrainingTests
{
    static readonly ShapesOptions Small = new() { Seed = 2, Train = 8, Val = 4, ImageSize = 96, Segments = true };

    static TrainConfig Args(string dir, params (string, string)[] extra)
    {
        var kv = new Dictionary<string, string>
        {
            ["data"] = ShapesDataset.Ensure(dir, Small), ["model"] = "yolov8n-seg", ["imgsz"] = "64", ["batch"] = "4", ["workers"] = "0",
            ["project"] = Path.Combine(dir, "runs"), ["name"] = "train", ["seed"] = "1", ["epochs"] = "2",
        };
        foreach (var (k, v) in extra) kv[k] = v;
        return ConfigRecords.Parse<TrainConfig>(kv);
    }

    [Fact]
    public void A_seg_model_name_trains_the_segment_task_with_box_and_mask_columns()
    {
        var dir = TestPaths.NewTempDir();
        try
        {
            // No task= given: the -seg model name picks the segment task (as Ultralytics).
            var r = YoloTraining.Run(Args(dir), TextWriter.Null);
            Assert.Equal(Path.Combine(dir, "runs", "train"), r.RunDir);
            var lines = File.ReadAllLines(Path.Combine(r.RunDir, "results.csv"));
            Assert.Equal(new[] { "epoch" }.Concat(SegmentationModule.Columns), lines[0].Split(','));
            Assert.Equal(3, lines.Length);
            foreach (var line in lines.Skip(1))
                foreach (var cell in line.Split(','))
                    Assert.True(double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out _), $"'{cell}' in {line}");
            Assert.Contains("metrics/mAP50-95(M)", r.FinalMetrics.Keys);
            Assert.Contains("val/seg_loss", r.FinalMetrics.Keys);
            Assert.True(File.Exists(Path.Combine(r.RunDir, "MaskPR_curve.png")));
            using var best = ModelLoader.Load(r.BestPath!);
            Assert.Equal("segment", best.Model.Task);
            Assert.Contains("task: segment", File.ReadAllText(Path.Combine(r.RunDir, "args.yaml")));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void The_segment_task_with_a_detection_model_is_refused_by_name()
    {
        var dir = TestPaths.NewTempDir();
        try
        {
            var e = Assert.Throws<ArgumentException>(() => YoloTraining.Run(Args(dir, ("task", "segment"), ("model", "yolov8n")), TextWriter.Null));
            Assert.Contains("task=segment needs a segment model", e.Message);
            Assert.Contains("yolov8n-seg", e.Message);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void Shapes_seg_labels_are_polygons_that_the_label_checker_reads_as_segments()
    {
        var (_, labels) = ShapesDataset.RenderScene(0, 0, 3, 96, segments: true);
        var rows = labels.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(rows);
        foreach (var row in rows)
        {
            var v = row.Split(' ');
            Assert.True(v.Length >= 7 && v.Length % 2 == 1, row); // class and at least three points
            Assert.All(v.Skip(1), s => Assert.InRange(double.Parse(s, CultureInfo.InvariantCulture), 0, 1));
        }
        // The detection variant of the same scene index keeps its boxes.
        var (_, boxes) = ShapesDataset.RenderScene(0, 0, 3, 96);
        Assert.All(boxes.Split('\n', StringSplitOptions.RemoveEmptyEntries), row => Assert.Equal(5, row.Split(' ').Length));
    }
}
