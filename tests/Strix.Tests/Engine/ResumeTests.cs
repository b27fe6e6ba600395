using Strix.Engine;
using Strix.Engine.Callbacks;
using static TorchSharp.torch;

namespace Strix.Tests.Engine;

/// <summary>
/// Bit-identity needs torch's process-wide generator to ourselves: this collection runs alone, never
/// beside tests that draw from the same generator.
/// </summary>
[CollectionDefinition("torch-global-rng", DisableParallelization = true)]
public sealed class TorchGlobalRngCollection { }

[Collection("torch-global-rng")]
public class ResumeTests
{
    static TrainerOptions Options(string dir, long? maxSteps, int epochs = 3, int accumulate = 1) => new()
    {
        MaxEpochs = epochs, MaxSteps = maxSteps, Seed = 0, Deterministic = true, Ema = true,
        AccumulateGradBatches = accumulate, GradientClipVal = 10, DefaultRootDir = dir,
    };

    static PointClassifier NewModule(long initSeed)
    {
        manual_seed(initSeed);
        return new PointClassifier("adamw", lr: 0.01, momentum: 0.9, dropout: 0.3);
    }

    /// <summary>The acceptance test: 4 steps straight vs 2 steps → checkpoint → fresh objects → resume → 2 steps.</summary>
    [Fact]
    public void Four_steps_straight_equal_two_plus_two_after_resume_bitwise()
    {
        var dirA = TestPaths.NewTempDir();
        var a = NewModule(123);
        var ta = EngineTest.Trainer(Options(dirA, 4), new[] { new ModelCheckpoint() });
        var ra = ta.Fit(a, new PointData(48, 16), new PointData(32, 16, shuffle: false)); // 3 batches/epoch
        Assert.Equal(4, ra.GlobalStep);
        var straight = EngineTest.Bytes(a.Model);
        var straightEma = ta.Ema!.State.ToDictionary(kv => kv.Key, kv => kv.Value.cpu().bytes.ToArray());

        var dirB = TestPaths.NewTempDir();
        var b1 = NewModule(123);
        var ckB = new ModelCheckpoint();
        var tb1 = EngineTest.Trainer(Options(dirB, 2), new[] { ckB });
        var rb1 = tb1.Fit(b1, new PointData(48, 16), new PointData(32, 16, shuffle: false));
        Assert.Equal(2, rb1.GlobalStep);
        Assert.Equal("max_steps", rb1.StopReason);
        Assert.True(File.Exists(ckB.LastPath));

        // "A new process": new module initialised differently, new trainer, new data objects, torch RNG disturbed.
        var b2 = NewModule(999);
        randn(1000).Dispose();
        var order = new OrderRecorder();
        var tb2 = EngineTest.Trainer(Options(dirB, 4), new Callback[] { order, new ModelCheckpoint() });
        var rb2 = tb2.Fit(b2, new PointData(48, 16), new PointData(32, 16, shuffle: false), ckptPath: ckB.LastPath);
        Assert.Equal(4, rb2.GlobalStep);
        Assert.Equal(new[] { "Setup", "OnLoadCheckpoint", "OnFitStart", "OnTrainStart" }, order.Events.Take(4));

        EngineTest.AssertBitwiseEqual(straight, EngineTest.Bytes(b2.Model));
        EngineTest.AssertBitwiseEqual(straightEma, tb2.Ema!.State.ToDictionary(kv => kv.Key, kv => kv.Value.cpu().bytes.ToArray()));
    }

    /// <summary>A stop between accumulation steps keeps the pending gradients in the checkpoint.</summary>
    [Theory]
    [InlineData(48)] // 3 batches/epoch: the stop lands on the epoch's last batch (normal epoch end, then stop)
    [InlineData(64)] // 4 batches/epoch: the stop lands mid-epoch
    public void Stop_request_mid_accumulation_resumes_bitwise(int samples)
    {
        var dirA = TestPaths.NewTempDir();
        var a = NewModule(5);
        var ta = EngineTest.Trainer(Options(dirA, null, epochs: 2, accumulate: 2));
        ta.Fit(a, new PointData(samples, 16), new PointData(32, 16, shuffle: false));
        var straight = EngineTest.Bytes(a.Model);

        var dirB = TestPaths.NewTempDir();
        var ck = new ModelCheckpoint();
        var tb1 = EngineTest.Trainer(Options(dirB, null, epochs: 2, accumulate: 2), new Callback[] { new StopAt(2), ck });
        var r1 = tb1.Fit(NewModule(5), new PointData(samples, 16), new PointData(32, 16, shuffle: false));
        Assert.True(r1.Interrupted);
        using (var saved = Checkpoint.Load(ck.LastPath))
            Assert.NotEmpty(saved.Gradients); // ni = 2 was accumulated, not yet applied

        var b2 = NewModule(77);
        var tb2 = EngineTest.Trainer(Options(dirB, null, epochs: 2, accumulate: 2), new[] { new ModelCheckpoint() });
        tb2.Fit(b2, new PointData(samples, 16), new PointData(32, 16, shuffle: false), ckptPath: ck.LastPath);
        EngineTest.AssertBitwiseEqual(straight, EngineTest.Bytes(b2.Model));
    }

    [Fact]
    public void Resume_may_extend_epochs_and_refuses_a_finished_run()
    {
        var dir = TestPaths.NewTempDir();
        var ck = new ModelCheckpoint();
        EngineTest.Trainer(Options(dir, null, epochs: 2), new[] { ck }).Fit(NewModule(1), new PointData(32, 16), null);
        var finished = Assert.Throws<ArgumentException>(() =>
            EngineTest.Trainer(Options(dir, null, epochs: 2), new[] { new ModelCheckpoint() }).Fit(NewModule(1), new PointData(32, 16), null, ck.LastPath));
        Assert.Contains("finished", finished.Message);
        var r = EngineTest.Trainer(Options(dir, null, epochs: 4), new[] { new ModelCheckpoint() }).Fit(NewModule(1), new PointData(32, 16), null, ck.LastPath);
        Assert.Equal(4, r.EpochsCompleted);
        Assert.Equal(8, r.GlobalStep);
    }

    [Fact]
    public void Best_checkpoint_holds_weights_only_and_cannot_be_resumed()
    {
        var dir = TestPaths.NewTempDir();
        var ck = new ModelCheckpoint(savePeriod: 1);
        EngineTest.Trainer(Options(dir, null, epochs: 2), new[] { ck }).Fit(NewModule(1), new PointData(32, 16), new PointData(32, 16));
        Assert.True(File.Exists(ck.BestPath));
        Assert.True(File.Exists(Path.Combine(ck.Dir, "epoch2.safetensors")));
        using (var best = Checkpoint.Load(ck.BestPath))
        {
            Assert.False(best.IsResumable);
            Assert.Empty(best.OptimizerState);
            Assert.Contains("3.weight", best.Weights.Keys);
        }
        using (var last = Checkpoint.Load(ck.LastPath))
        {
            Assert.True(last.IsResumable);
            Assert.NotEmpty(last.OptimizerState);
            Assert.NotNull(last.ModelWeights); // EMA on: the raw weights are kept for resume
        }
        var e = Assert.Throws<InvalidDataException>(() =>
            EngineTest.Trainer(Options(dir, null, epochs: 3)).Fit(NewModule(1), new PointData(32, 16), null, ck.BestPath));
        Assert.Contains("not a resumable checkpoint", e.Message);
    }

    [Fact]
    public void A_write_that_fails_half_way_leaves_the_previous_last_intact()
    {
        var dir = TestPaths.NewTempDir();
        var ck = new ModelCheckpoint();
        var module = new FailingSaveModule();
        var trainer = EngineTest.Trainer(Options(dir, null, epochs: 3), new[] { ck });
        Assert.ThrowsAny<Exception>(() => trainer.Fit(module, new PointData(32, 16), null));
        Assert.Equal(2, module.Saves); // the second save threw while streaming tensor data
        using var last = Checkpoint.Load(ck.LastPath);
        Assert.Equal(1, (int)last.Trainer["epochs_completed"]!);
        Assert.Empty(Directory.EnumerateFiles(ck.Dir, "*.tmp", SearchOption.AllDirectories).Concat(Directory.EnumerateFiles(ck.Dir, ".*")));
    }

    sealed class FailingSaveModule : PointClassifier
    {
        public int Saves;
        public override void OnSaveCheckpoint(Checkpoint checkpoint)
        {
            // A tensor on the meta device has a shape but no data: writing its bytes throws after the
            // header and the earlier tensors were already streamed into the temporary file.
            if (++Saves == 2) checkpoint.Extra["zz_unreadable"] = empty(new long[] { 1024 }, device: new Device("meta"));
        }
    }

    sealed class StopAt(long iteration) : Callback
    {
        public override void OnTrainBatchEnd(Trainer trainer, StrixModule module, double loss, object? batch, int batchIdx)
        {
            if (trainer.Iteration == iteration) trainer.RequestStop("test");
        }
    }
}
