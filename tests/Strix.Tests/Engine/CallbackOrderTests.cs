using Strix.Engine;
using Strix.Engine.Callbacks;
using Strix.Engine.Optim;
using static TorchSharp.torch;

namespace Strix.Tests.Engine;

public class CallbackOrderTests
{
    /// <summary>The order documented on <see cref="Callback"/>, for 2 epochs × 2 batches, 1 validation batch.</summary>
    [Fact]
    public void Hooks_fire_in_the_documented_order()
    {
        var dir = TestPaths.NewTempDir();
        var rec = new OrderRecorder();
        var trainer = EngineTest.Trainer(new TrainerOptions { MaxEpochs = 2, DefaultRootDir = dir },
            new Callback[] { rec, new ModelCheckpoint(monitor: "nothing-logged") });
        trainer.Fit(new PointClassifier(), new PointData(32, 16), new PointData(16, 16));

        var batch = new[] { "OnTrainBatchStart", "OnBeforeBackward", "OnAfterBackward", "OnBeforeOptimizerStep", "OnTrainBatchEnd" };
        var epoch = new[] { "OnTrainEpochStart" }.Concat(batch).Concat(batch)
            .Concat(new[] { "OnValidationStart", "OnValidationEpochStart", "OnValidationBatchStart", "OnValidationBatchEnd",
                "OnValidationEpochEnd", "OnValidationEnd", "OnTrainEpochEnd", "OnEpochEnd", "OnSaveCheckpoint" });
        var expected = new[] { "Setup", "OnFitStart", "OnTrainStart" }.Concat(epoch).Concat(epoch)
            .Concat(new[] { "OnTrainEnd", "OnFitEnd", "Teardown" });
        Assert.Equal(expected, rec.Events);
    }

    [Fact]
    public void Module_hooks_run_before_callback_hooks_and_accumulation_skips_steps()
    {
        var log = new List<string>();
        var module = new LoggingModule(log);
        var trainer = EngineTest.Trainer(new TrainerOptions { MaxEpochs = 1, AccumulateGradBatches = 2 }, new[] { new SharedRecorder(log) });
        trainer.Fit(module, new PointData(48, 16), null);
        Assert.Equal(new[]
        {
            "M:OnTrainEpochStart", "C:OnTrainEpochStart",
            "M:OnTrainBatchEnd", "C:OnTrainBatchEnd",
            "M:OnBeforeOptimizerStep", "C:OnBeforeOptimizerStep", "M:OnTrainBatchEnd", "C:OnTrainBatchEnd",
            "M:OnTrainBatchEnd", "C:OnTrainBatchEnd",
            "M:OnTrainEpochEnd", "C:OnTrainEpochEnd",
        }, log);
    }

    [Fact]
    public void An_exception_fires_OnException_then_Teardown()
    {
        var rec = new OrderRecorder();
        var trainer = EngineTest.Trainer(new TrainerOptions { MaxEpochs = 1 }, new[] { rec });
        Assert.Throws<InvalidOperationException>(() => trainer.Fit(new ThrowingModule(), new PointData(16, 16), null));
        Assert.Equal(new[] { "OnException", "Teardown" }, rec.Events.TakeLast(2));
    }

    sealed class ThrowingModule : PointClassifier
    {
        public override Tensor TrainingStep(PointBatch batch, int batchIdx) => throw new InvalidOperationException("boom");
    }

    sealed class LoggingModule(List<string> log) : PointClassifier
    {
        public override void OnTrainEpochStart() => log.Add("M:OnTrainEpochStart");
        public override void OnTrainEpochEnd() => log.Add("M:OnTrainEpochEnd");
        public override void OnTrainBatchEnd(double loss, PointBatch batch, int batchIdx) => log.Add("M:OnTrainBatchEnd");
        public override void OnBeforeOptimizerStep(Optimizer optimizer) => log.Add("M:OnBeforeOptimizerStep");
    }

    sealed class SharedRecorder(List<string> log) : Callback
    {
        public override void OnTrainEpochStart(Trainer t, StrixModule m) => log.Add("C:OnTrainEpochStart");
        public override void OnTrainEpochEnd(Trainer t, StrixModule m) => log.Add("C:OnTrainEpochEnd");
        public override void OnTrainBatchEnd(Trainer t, StrixModule m, double loss, object? b, int i) => log.Add("C:OnTrainBatchEnd");
        public override void OnBeforeOptimizerStep(Trainer t, StrixModule m, Optimizer o) => log.Add("C:OnBeforeOptimizerStep");
    }
}
