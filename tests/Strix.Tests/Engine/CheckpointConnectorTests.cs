using System.Text.Json.Nodes;
using Strix.Engine;
using static TorchSharp.torch;

namespace Strix.Tests.Engine;

public class CheckpointConnectorTests
{
    [Fact]
    public void Loop_progress_round_trips_through_json()
    {
        var p = new LoopProgress
        {
            Resumable = true, Epoch = 3, Batch = 2, EpochsCompleted = 2, MaxEpochs = 10, GlobalStep = 41, BatchesPerEpoch = 17,
            TrainSeconds = 12.5, Precision = "bf16-mixed", Device = "cpu",
            Metrics = new Dictionary<string, double> { ["fitness"] = 0.25, ["train/loss"] = 1.5 },
            Ema = new JsonObject { ["updates"] = 41L }, LastOptIteration = 52, Iteration = 53, NonFinite = 1,
            OptimizerName = "SGD", OptimizerGroups = new JsonArray(new JsonObject { ["lr"] = 0.01 }),
            Scheduler = new JsonObject { ["last"] = 3 }, PrecisionState = new JsonObject { ["scale"] = 1024.0 }, Seed = 5,
            TrainMetrics = new JsonArray(1, 2), ValMetrics = new JsonArray(), ValidatedThisEpoch = true,
        };
        var json = p.ToJson();
        var back = LoopProgress.FromJson(JsonNode.Parse(json.ToJsonString())!.AsObject(), "test");
        Assert.Equal(json.ToJsonString(), back.ToJson().ToJsonString());
        Assert.Equal((3, 2, 2, 10, 41L, 17), (back.Epoch, back.Batch, back.EpochsCompleted, back.MaxEpochs, back.GlobalStep, back.BatchesPerEpoch));
        Assert.Equal((52L, 53L, 1, "SGD", 5L, true), (back.LastOptIteration, back.Iteration, back.NonFinite, back.OptimizerName, back.Seed, back.ValidatedThisEpoch));
        Assert.Equal(0.25, back.Metrics["fitness"]);
        Assert.Equal(1024.0, (double)back.PrecisionState!["scale"]!);

        // A deployment checkpoint (best) carries no resume state, and says so.
        var best = LoopProgress.FromJson(JsonNode.Parse((p with { Resumable = false }).ToJson().ToJsonString())!.AsObject(), "best");
        Assert.False(best.Resumable);
        Assert.Null(best.OptimizerName);
        Assert.Equal(-1, best.LastOptIteration);
        Assert.Contains("trainer/epoch", Assert.Throws<InvalidDataException>(() => LoopProgress.FromJson(new JsonObject(), "x.safetensors")).Message);
    }

    /// <summary>A checkpoint written mid-epoch, read back from disk, restores the progress, weights, optimizer state and pending gradients.</summary>
    [Fact]
    public void A_saved_checkpoint_restores_every_component()
    {
        var dir = TestPaths.NewTempDir();
        var path = Path.Combine(dir, "mid.safetensors");
        var module = new PointClassifier(optimizer: "adamw", lr: 0.01);
        LoopProgress? saved = null;
        Dictionary<string, byte[]>? weights = null;
        var trainer = EngineTest.Trainer(new TrainerOptions { MaxEpochs = 2, AccumulateGradBatches = 2, Seed = 3, Ema = true },
            new Callback[] { new SaveAtBatch(5, path, t => { saved = t.Progress(); weights = EngineTest.Bytes(module.Model); }) });
        trainer.Fit(module, new PointData(48, 8), null); // 6 batches per epoch: batch 5 is mid-epoch, between two accumulation steps

        using var ck = Checkpoint.Load(path);
        Assert.True(ck.IsResumable);
        var p = LoopProgress.FromJson(ck.Trainer, path);
        Assert.Equal(Json(saved!), Json(p));
        Assert.Equal((0, 5, 0), (p.Epoch, p.Batch, p.EpochsCompleted));
        Assert.Equal(2, p.GlobalStep); // batches 0–3 made two steps; batch 4's gradient is pending
        Assert.NotEmpty(ck.Gradients);
        Assert.NotEmpty(ck.OptimizerState);
        Assert.NotNull(ck.ModelWeights); // EMA weights are the file's weights, the raw model's ride along
        Assert.NotNull(ck.TorchRngState);

        // Resuming into a fresh trainer brings back the same counters and raw weights before training on.
        var probe = new ProbeAtStart();
        var fresh = new PointClassifier(optimizer: "adamw", lr: 0.01);
        EngineTest.Trainer(new TrainerOptions { MaxEpochs = 2, AccumulateGradBatches = 2, Seed = 3, Ema = true }, new Callback[] { probe })
            .Fit(fresh, new PointData(48, 8), null, ckptPath: path);
        Assert.Equal((0, 5, 2L), (probe.Progress!.Epoch, probe.Progress.Batch, probe.Progress.GlobalStep));
        EngineTest.AssertBitwiseEqual(weights!, probe.Weights!);
    }

    /// <summary>Saves as batch <paramref name="batchIdx"/> of the first epoch begins (the batches before it done).</summary>
    sealed class SaveAtBatch(int batchIdx, string path, Action<Trainer> observe) : Callback
    {
        public override void OnTrainBatchStart(Trainer trainer, StrixModule module, object? batch, int i)
        {
            if (trainer.Epoch != 0 || i != batchIdx) return;
            observe(trainer);
            trainer.SaveCheckpoint(path);
        }
    }

    /// <summary>The progress as JSON without the wall-clock training time (which moves between two reads).</summary>
    static string Json(LoopProgress p)
    {
        var j = p.ToJson();
        j.Remove("train_seconds");
        return j.ToJsonString();
    }

    sealed class ProbeAtStart : Callback
    {
        public LoopProgress? Progress;
        public Dictionary<string, byte[]>? Weights;
        public override void OnTrainStart(Trainer trainer, StrixModule module)
        {
            Progress = trainer.Progress();
            Weights = EngineTest.Bytes(module.Model);
        }
    }
}
