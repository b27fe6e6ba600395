using Strix.Engine;
using static TorchSharp.torch;

namespace Strix.Tests.Engine;

public class NonFiniteTests
{
    [Fact]
    public void A_nan_loss_is_skipped_and_three_in_a_row_restore_the_last_good_weights()
    {
        var log = new StringWriter();
        var snapshots = new Dictionary<string, Dictionary<string, byte[]>>();
        var module = new NanModule(new long[] { 5, 6, 7, 9 });
        var trainer = EngineTest.Trainer(new TrainerOptions { MaxEpochs = 3, Ema = true, Log = log }, new[] { new Snapper(snapshots) });
        var r = trainer.Fit(module, new PointData(64, 16), null); // 4 batches per epoch

        Assert.Equal(3, r.EpochsCompleted);
        // ni 5, 6, 7 are NaN: after the third the weights from the end of epoch 1 come back (ni 4's step is undone).
        EngineTest.AssertBitwiseEqual(snapshots["epoch1"], snapshots["after7"]);
        // a lone NaN (ni 9) only skips its own step.
        EngineTest.AssertBitwiseEqual(snapshots["after8"], snapshots["after9"]);
        Assert.Equal(12 - 4, r.GlobalStep);
        var text = log.ToString();
        Assert.Equal(4, text.Split("non-finite loss").Length - 1);
        Assert.Contains("restored the last good weights", text);
        Assert.Contains("end of epoch 1", text);
        Assert.True(double.IsFinite(r.Metrics["train/loss"])); // skipped batches do not poison the epoch means
    }

    [Fact]
    public void Persistent_nans_end_the_run_with_a_clear_error()
    {
        var trainer = EngineTest.Trainer(new TrainerOptions { MaxEpochs = 10 });
        var e = Assert.Throws<InvalidOperationException>(() =>
            trainer.Fit(new NanModule(Enumerable.Range(0, 1000).Select(i => (long)i).ToArray()), new PointData(64, 16), null));
        Assert.Contains("diverged", e.Message);
    }

    sealed class NanModule(long[] nanAt) : PointClassifier
    {
        public override Tensor TrainingStep(PointBatch batch, int batchIdx)
        {
            var loss = base.TrainingStep(batch, batchIdx);
            return nanAt.Contains(Trainer.Iteration) ? loss * double.NaN : loss;
        }
    }

    sealed class Snapper(Dictionary<string, Dictionary<string, byte[]>> store) : Callback
    {
        public override void OnTrainEpochEnd(Trainer t, StrixModule m) => store[$"epoch{t.Epoch + 1}"] = EngineTest.Bytes(m.Model);
        public override void OnTrainBatchEnd(Trainer t, StrixModule m, double loss, object? b, int i) => store[$"after{t.Iteration}"] = EngineTest.Bytes(m.Model);
    }
}
