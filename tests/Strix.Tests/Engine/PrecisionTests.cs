using Strix.Engine;
using Strix.Engine.Optim;
using Strix.Engine.Precision;
using Strix.Models;
using Strix.Nn;
using static TorchSharp.torch;
using Parameter = TorchSharp.Modules.Parameter;

namespace Strix.Tests.Engine;

public class PrecisionTests
{
    [Theory]
    [InlineData("32", PrecisionMode.Fp32)]
    [InlineData("bf16-mixed", PrecisionMode.Bf16Mixed)]
    [InlineData("fp16-mixed", PrecisionMode.Fp16Mixed)]
    [InlineData("16-mixed", PrecisionMode.Fp16Mixed)]
    public void Parses_lightning_names(string text, PrecisionMode mode) => Assert.Equal(mode, Precisions.Parse(text));

    [Fact]
    public void Conv_under_bf16_autocast_flows_in_bf16_with_fp32_master_weights_and_grads()
    {
        manual_seed(0);
        var conv = new Conv(8, 16, 3);
        conv.eval();
        var x = randn(2, 8, 16, 16);
        var reference = conv.call(x);
        Tensor y;
        using (Autocast.Enable(ScalarType.BFloat16))
        {
            Assert.Equal(ScalarType.BFloat16, Autocast.DType);
            using (Autocast.Disable()) Assert.False(Autocast.IsEnabled);
            Assert.True(Autocast.IsEnabled);
            y = conv.call(x);
        }
        Assert.False(Autocast.IsEnabled);
        Assert.Equal(ScalarType.BFloat16, y.dtype); // activations between layers stay bf16
        Assert.Equal(ScalarType.Float32, conv.bn!.running_mean!.dtype);
        Assert.Equal(ScalarType.Float32, conv.conv.weight!.dtype);
        double rel = ((y.to(ScalarType.Float32) - reference).abs().max() / reference.abs().max()).item<float>();
        Assert.InRange(rel, 1e-5, 3e-2); // bf16 rounding shows, but stays small
        y.sum().backward();
        Assert.Equal(ScalarType.Float32, conv.conv.weight!.grad!.dtype);
        Assert.Equal(ScalarType.Float32, conv.bn!.weight!.grad!.dtype);
    }

    [Fact]
    public void A_detection_model_runs_under_autocast_with_fp32_outputs()
    {
        manual_seed(0);
        using var model = new DetectionModel(new YoloScale("t", 0.25, 0.125, 64), 2);
        model.eval();
        var x = rand(1, 3, 64, 64);
        var fp32 = model.forward(x);
        Tensor[] mixed;
        using (Autocast.Enable(ScalarType.BFloat16)) mixed = model.forward(x);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(ScalarType.Float32, mixed[i].dtype);
            Assert.Equal(fp32[i].shape, mixed[i].shape);
            // bf16 keeps ~3 significant digits: outputs differ, but only by a few percent on average.
            double rel = ((mixed[i] - fp32[i]).abs().mean() / fp32[i].abs().mean()).item<float>();
            Assert.InRange(rel, 1e-6, 0.05);
        }
    }

    static (Parameter P, Optimizer Opt) One(double value)
    {
        var p = new Parameter(tensor(new[] { (float)value }));
        return (p, new Sgd(new[] { new ParamGroup("g", new[] { ("p", p) }, 1.0) }, nesterov: false));
    }

    [Fact]
    public void Grad_scaler_unscales_and_grows_after_the_interval()
    {
        var (p, opt) = One(1.0);
        var scaler = new GradScaler(initScale: 4, growthInterval: 2);
        Assert.Equal(8f, scaler.ScaleLoss(tensor(2f)).item<float>());
        p.grad = tensor(new[] { 2f });
        Assert.True(scaler.Step(opt));
        Assert.Equal(0.5f, p.detach().item<float>()); // 1 − 1.0·(2/4)
        scaler.Update();
        Assert.Equal(4, scaler.Scale);
        Assert.Equal(1, scaler.GrowthTracker);
        p.grad = tensor(new[] { 4f });
        scaler.Step(opt); scaler.Update();
        Assert.Equal(8, scaler.Scale); // 2 clean steps → × 2
        Assert.Equal(0, scaler.GrowthTracker);
        Assert.Equal(-0.5f, p.detach().item<float>());
    }

    [Theory]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NaN)]
    public void Grad_scaler_skips_the_step_and_backs_off_on_injected_infinities(double bad)
    {
        var (p, opt) = One(1.0);
        var scaler = new GradScaler(initScale: 1024, growthInterval: 3);
        p.grad = tensor(new[] { 1f }); scaler.Step(opt); scaler.Update(); // one clean step: tracker 1
        p.grad = tensor(new[] { (float)bad });
        float before = p.detach().item<float>();
        Assert.False(scaler.Step(opt));
        Assert.True(scaler.FoundInf);
        Assert.Equal(before, p.detach().item<float>());
        scaler.Update();
        Assert.Equal(512, scaler.Scale);
        Assert.Equal(0, scaler.GrowthTracker);
        Assert.Equal(1, scaler.SkippedSteps);
        Assert.Throws<InvalidOperationException>(() => scaler.Update()); // no unscale this iteration
    }

    [Fact]
    public void Fp16_mixed_training_skips_overflowing_steps_and_backs_off()
    {
        var module = new OverflowModule(overflowAt: 3);
        var trainer = EngineTest.Trainer(new TrainerOptions { MaxEpochs = 1, Precision = PrecisionMode.Fp16Mixed });
        var r = trainer.Fit(module, new PointData(96, 16), null); // 6 batches
        Assert.NotNull(trainer.Scaler);
        Assert.Equal(1, trainer.Scaler!.SkippedSteps);
        Assert.Equal(65536.0 / 2, trainer.Scaler.Scale);
        Assert.Equal(5, r.GlobalStep);
    }

    sealed class OverflowModule(long overflowAt) : PointClassifier
    {
        // A finite loss whose scaled gradient overflows fp32 (1e35 × 65536 > 3.4e38).
        public override Tensor TrainingStep(PointBatch batch, int batchIdx)
        {
            var loss = base.TrainingStep(batch, batchIdx);
            return Trainer.Iteration == overflowAt ? loss * 1e35 : loss;
        }
    }
}
