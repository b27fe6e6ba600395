using Strix.Engine;
using Strix.Engine.Callbacks;
using Strix.Engine.Optim;
using static TorchSharp.torch;

namespace Strix.Tests.Engine;

public class TrainerTests
{
    [Fact]
    public void Trains_a_linear_classifier_loss_down_accuracy_up()
    {
        manual_seed(1);
        var module = new PointClassifier("sgd", lr: 0.2);
        var train = new PointData(256, 32, seed: 3);
        var val = new PointData(128, 64, seed: 4, shuffle: false);
        var log = new List<IReadOnlyDictionary<string, double>>();
        var trainer = EngineTest.Trainer(new TrainerOptions { MaxEpochs = 6, Seed = 0 }, new Callback[] { new Recorder(log) });
        var result = trainer.Fit(module, train, val);

        Assert.Equal(6, result.EpochsCompleted);
        Assert.Equal(6 * 8, result.GlobalStep);
        Assert.Equal("max_epochs", result.StopReason);
        double firstLoss = log[0]["train/loss"], lastLoss = log[^1]["train/loss"];
        double firstAcc = log[0]["metrics/accuracy"], lastAcc = log[^1]["metrics/accuracy"];
        Assert.True(lastLoss < 0.5 * firstLoss, $"loss {firstLoss} → {lastLoss}");
        Assert.True(lastAcc >= 0.95, $"accuracy {firstAcc} → {lastAcc}");
        Assert.True(lastAcc > firstAcc || firstAcc >= 0.95);
    }

    sealed class Recorder(List<IReadOnlyDictionary<string, double>> rows) : Callback
    {
        public override void OnTrainEpochEnd(Trainer trainer, StrixModule module) => rows.Add(trainer.CallbackMetrics);
    }

    [Fact]
    public void Gradient_accumulation_steps_every_n_batches_and_clipping_bounds_the_update()
    {
        manual_seed(2);
        var module = new PointClassifier("sgd", lr: 0.1, momentum: 0);
        var trainer = EngineTest.Trainer(new TrainerOptions { MaxEpochs = 2, AccumulateGradBatches = 3, GradientClipVal = 1e-3 });
        var before = EngineTest.Bytes(module.Model);
        var w0 = module.Model.state_dict()["3.weight"].clone();
        var result = trainer.Fit(module, new PointData(160, 16), null); // 10 batches per epoch
        // Ultralytics' rule "step when ni − last_step ≥ accumulate": steps at ni = 2, 5, 8, 11, 14, 17.
        Assert.Equal(6, result.GlobalStep);
        // With the norm clipped to 1e-3 and lr 0.1 (decay adds a little), each step moves the weights by ≤ ~1e-4.
        var moved = (module.Model.state_dict()["3.weight"] - w0).norm().item<float>();
        Assert.InRange(moved, 1e-6, 6 * 1.2e-4);
    }

    [Fact]
    public void Fast_dev_run_runs_one_train_and_one_val_batch_and_writes_nothing()
    {
        var dir = TestPaths.NewTempDir();
        var calls = new OrderRecorder();
        var csv = new Strix.Engine.Loggers.CsvLogger(Path.Combine(dir, "results.csv"));
        var ckpt = new ModelCheckpoint(Path.Combine(dir, "weights"));
        var trainer = EngineTest.Trainer(new TrainerOptions { MaxEpochs = 10, FastDevRun = true, DefaultRootDir = dir },
            new Callback[] { calls, ckpt }, new[] { csv });
        var r = trainer.Fit(new PointClassifier(), new PointData(64, 8), new PointData(64, 8));
        Assert.Equal(1, r.EpochsCompleted);
        Assert.Equal(1, calls.Events.Count(e => e == "OnTrainBatchStart"));
        Assert.Equal(1, calls.Events.Count(e => e == "OnValidationBatchStart"));
        Assert.False(File.Exists(Path.Combine(dir, "results.csv")));
        Assert.False(Directory.Exists(Path.Combine(dir, "weights")) && Directory.EnumerateFiles(Path.Combine(dir, "weights")).Any());
        Assert.Empty(ckpt.Saved);
    }

    [Fact]
    public void Overfit_batches_reuses_the_first_batches_every_epoch()
    {
        var seen = new List<float>();
        var module = new FirstValueModule(seen);
        var data = new PointData(64, 8);
        var trainer = EngineTest.Trainer(new TrainerOptions { MaxEpochs = 3, OverfitBatches = 2 });
        trainer.Fit(module, data, null);
        Assert.Equal(6, seen.Count);
        Assert.Equal(seen.Take(2), seen.Skip(2).Take(2));
        Assert.Equal(seen.Take(2), seen.Skip(4).Take(2));
        Assert.Equal(new[] { 0 }, data.EpochsRequested); // read once, cached
    }

    [Fact]
    public void Limit_batches_counts_and_fractions()
    {
        var calls = new OrderRecorder();
        var trainer = EngineTest.Trainer(new TrainerOptions { MaxEpochs = 1, LimitTrainBatches = BatchLimit.Batches(3), LimitValBatches = BatchLimit.Of(0.5) }, new[] { calls });
        trainer.Fit(new PointClassifier(), new PointData(80, 8), new PointData(80, 8));
        Assert.Equal(3, calls.Events.Count(e => e == "OnTrainBatchStart"));
        Assert.Equal(5, calls.Events.Count(e => e == "OnValidationBatchStart"));
    }

    [Fact]
    public void Val_false_validates_only_after_the_final_epoch()
    {
        var calls = new OrderRecorder();
        var trainer = EngineTest.Trainer(new TrainerOptions { MaxEpochs = 3, Val = false }, new[] { calls });
        trainer.Fit(new PointClassifier(), new PointData(32, 16), new PointData(32, 16));
        Assert.Equal(1, calls.Events.Count(e => e == "OnValidationStart"));
        int lastValidation = calls.Events.LastIndexOf("OnValidationStart");
        Assert.Equal(2, calls.Events.Take(lastValidation).Count(e => e == "OnTrainEpochEnd"));
    }

    [Fact]
    public void Time_budget_stops_the_run()
    {
        var trainer = EngineTest.Trainer(new TrainerOptions { MaxEpochs = 1000, TimeHours = 1e-9 });
        var r = trainer.Fit(new PointClassifier(), new PointData(32, 16), null);
        Assert.Equal("time", r.StopReason);
        Assert.Equal(1, r.EpochsCompleted);
    }

    [Fact]
    public void Early_stopping_stops_after_patience_epochs_without_improvement()
    {
        var es = new EarlyStopping("fitness", patience: 2);
        var trainer = EngineTest.Trainer(new TrainerOptions { MaxEpochs = 50 }, new[] { es });
        var module = new ConstantFitnessModule();
        var r = trainer.Fit(module, new PointData(16, 16), new PointData(16, 16));
        // fitness 0.5 every epoch: best at epoch 1 (≥ keeps updating, as Ultralytics), so it never stops…
        Assert.Equal(50, r.EpochsCompleted);
        var es2 = new EarlyStopping("fitness", patience: 2, mode: "min");
        var t2 = EngineTest.Trainer(new TrainerOptions { MaxEpochs = 50 }, new[] { es2 });
        var r2 = t2.Fit(new ConstantFitnessModule(rising: true), new PointData(16, 16), new PointData(16, 16));
        // …while a metric that only gets worse (min mode, rising) stops 2 epochs after the best (epoch 1).
        Assert.Equal(3, r2.EpochsCompleted);
        Assert.Equal("early_stopping", r2.StopReason);
    }

    sealed class FirstValueModule(List<float> seen) : PointClassifier
    {
        public override Tensor TrainingStep(PointBatch batch, int batchIdx)
        {
            seen.Add(batch.X[0, 0].item<float>());
            return base.TrainingStep(batch, batchIdx);
        }
    }

    sealed class ConstantFitnessModule(bool rising = false) : PointClassifier
    {
        int _epoch;
        public override void OnValidationEpochEnd() => Log("fitness", rising ? ++_epoch : 0.5);
    }
}

/// <summary>Records every hook call by name.</summary>
public sealed class OrderRecorder : Callback
{
    public List<string> Events { get; } = new();
    void R(string name) => Events.Add(name);
    public override void Setup(Trainer t, StrixModule m, string stage) => R("Setup");
    public override void Teardown(Trainer t, StrixModule m, string stage) => R("Teardown");
    public override void OnFitStart(Trainer t, StrixModule m) => R("OnFitStart");
    public override void OnFitEnd(Trainer t, StrixModule m) => R("OnFitEnd");
    public override void OnTrainStart(Trainer t, StrixModule m) => R("OnTrainStart");
    public override void OnTrainEnd(Trainer t, StrixModule m) => R("OnTrainEnd");
    public override void OnTrainEpochStart(Trainer t, StrixModule m) => R("OnTrainEpochStart");
    public override void OnTrainEpochEnd(Trainer t, StrixModule m) => R("OnTrainEpochEnd");
    public override void OnTrainBatchStart(Trainer t, StrixModule m, object? b, int i) => R("OnTrainBatchStart");
    public override void OnTrainBatchEnd(Trainer t, StrixModule m, double loss, object? b, int i) => R("OnTrainBatchEnd");
    public override void OnValidationStart(Trainer t, StrixModule m) => R("OnValidationStart");
    public override void OnValidationEnd(Trainer t, StrixModule m) => R("OnValidationEnd");
    public override void OnValidationEpochStart(Trainer t, StrixModule m) => R("OnValidationEpochStart");
    public override void OnValidationEpochEnd(Trainer t, StrixModule m) => R("OnValidationEpochEnd");
    public override void OnValidationBatchStart(Trainer t, StrixModule m, object? b, int i) => R("OnValidationBatchStart");
    public override void OnValidationBatchEnd(Trainer t, StrixModule m, object? b, int i) => R("OnValidationBatchEnd");
    public override void OnBeforeBackward(Trainer t, StrixModule m, Tensor loss) => R("OnBeforeBackward");
    public override void OnAfterBackward(Trainer t, StrixModule m) => R("OnAfterBackward");
    public override void OnBeforeOptimizerStep(Trainer t, StrixModule m, Optimizer o) => R("OnBeforeOptimizerStep");
    public override void OnEpochEnd(Trainer t, StrixModule m) => R("OnEpochEnd");
    public override void OnSaveCheckpoint(Trainer t, StrixModule m, Checkpoint c) => R("OnSaveCheckpoint");
    public override void OnLoadCheckpoint(Trainer t, StrixModule m, Checkpoint c) => R("OnLoadCheckpoint");
    public override void OnException(Trainer t, StrixModule m, Exception e) => R("OnException");
}
