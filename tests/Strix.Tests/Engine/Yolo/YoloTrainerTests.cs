using System.Globalization;
using Strix.Engine;
using Strix.Engine.Yolo;
using Strix.Models;
using static TorchSharp.torch;

namespace Strix.Tests.Engine.Yolo;

/// <summary>End-to-end YOLO training through the generic Trainer, on coco8 with a narrow model at small sizes.</summary>
public class YoloTrainerTests
{
    static readonly YoloScale Narrow = new("t", 0.33, 0.0625, 1024);

    static TrainArgs Args(string project, int epochs, int imgsz = 160, int batch = 4) => new()
    {
        Data = TestPaths.Asset("coco8.yaml"), Epochs = epochs, ImgSz = imgsz, Batch = batch, Workers = 2,
        Project = project, Name = "train", Plots = false, Nbs = batch, Seed = 0, Deterministic = true,
    };

    /// <summary>Sum of the three train losses per results.csv row.</summary>
    static double[] TrainLosses(string runDir)
    {
        var lines = File.ReadAllLines(Path.Combine(runDir, "results.csv"));
        var header = lines[0].Split(',');
        int[] cols = { Array.IndexOf(header, "train/box_loss"), Array.IndexOf(header, "train/cls_loss"), Array.IndexOf(header, "train/dfl_loss") };
        Assert.DoesNotContain(-1, cols);
        return lines.Skip(1).Select(l => l.Split(',')).Select(f => cols.Sum(c => double.Parse(f[c], CultureInfo.InvariantCulture))).ToArray();
    }

    [Fact]
    public void OverfittingOneBatchCutsTheLossByFourFifths()
    {
        var project = TestPaths.NewTempDir();
        manual_seed(0);
        var model = new DetectionModel(Narrow, 80);
        var args = Args(project, epochs: 60) with
        {
            OverfitBatches = 1, Val = false, Save = false, Optimizer = "AdamW", Lr0 = 0.01, WarmupEpochs = 0,
            LimitValBatches = "1", Hyp = new Strix.Data.AugmentationOptions() with { Mosaic = 0 },
        };
        var r = YoloTrainer.Train(args, TextWriter.Null, model);
        var losses = TrainLosses(r.RunDir);
        Assert.Equal(60, losses.Length);
        Assert.True(losses[^1] <= 0.2 * losses[0], $"loss went from {losses[0]:F3} to {losses[^1]:F3} in 60 steps");
    }

    [Fact]
    public void FastDevRunRunsOneBatchOfEachAndWritesNoCheckpoint()
    {
        var project = TestPaths.NewTempDir();
        var r = YoloTrainer.Train(Args(project, epochs: 5) with { FastDevRun = true }, TextWriter.Null, new DetectionModel(Narrow, 80));
        Assert.Equal(1, r.Fit.EpochsCompleted);
        Assert.Equal(1, r.Fit.GlobalStep);
        Assert.Null(r.BestWeights);
        Assert.Empty(Directory.GetFiles(Path.Combine(r.RunDir, "weights")));
        Assert.False(File.Exists(Path.Combine(r.RunDir, "results.csv")));
        Assert.True(File.Exists(Path.Combine(r.RunDir, "args.yaml")));
    }

    /// <summary>Stops the run (as SIGINT would) once the trainer has made <c>steps</c> optimizer steps.</summary>
    sealed class StopAfter(int steps) : Callback
    {
        public override void OnTrainBatchEnd(Trainer trainer, StrixModule module, double loss, object? batch, int batchIdx)
        {
            if (trainer.GlobalStep >= steps) trainer.RequestStop("test interruption");
        }
    }

    static Dictionary<string, Tensor> Weights(string file)
    {
        using var c = Strix.Safetensors.Load(file);
        return c.Tensors.Where(kv => !kv.Key.StartsWith("train/rng", StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key, kv => kv.Value.clone());
    }

    [Fact]
    public void InterruptedAndResumedRunEndsBitIdenticalToAStraightRun()
    {
        // 2 epochs × 2 batches (coco8 train has 4 images, batch 2) = 4 steps; augmentation on, 2 workers.
        TrainArgs A(string project) => Args(project, epochs: 2, imgsz: 128, batch: 2) with { Val = false, Hyp = new Strix.Data.AugmentationOptions() with { CloseMosaic = 1 } };
        var straightDir = TestPaths.NewTempDir();
        manual_seed(0);
        var straight = YoloTrainer.Train(A(straightDir), TextWriter.Null, new DetectionModel(Narrow, 80));

        var interruptedDir = TestPaths.NewTempDir();
        manual_seed(0);
        var first = YoloTrainer.Train(A(interruptedDir), TextWriter.Null, new DetectionModel(Narrow, 80), new[] { new StopAfter(3) });
        Assert.True(first.Fit.Interrupted);
        Assert.Equal(3, first.Fit.GlobalStep);
        manual_seed(123); // the resumed process starts with a different global RNG state
        var resumed = YoloTrainer.Resume(first.LastWeights!, log: TextWriter.Null);
        Assert.Equal(4, resumed.Fit.GlobalStep);

        var a = Weights(straight.LastWeights!);
        var b = Weights(resumed.LastWeights!);
        Assert.Equal(a.Keys.OrderBy(k => k), b.Keys.OrderBy(k => k));
        foreach (var (k, t) in a)
            Assert.True(t.shape.SequenceEqual(b[k].shape) && t.eq(b[k]).all().item<bool>(), $"tensor {k} differs after resume");
    }
}
