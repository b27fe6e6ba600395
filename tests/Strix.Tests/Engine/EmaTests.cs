using Strix.Engine;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Strix.Tests.Engine;

public class EmaTests
{
    [Fact]
    public void Decay_ramps_up_as_ultralytics_defines_it()
    {
        using var ema = new ModelEma(Linear(1, 1));
        Assert.Equal(0.9999 * (1 - Math.Exp(-1 / 2000.0)), ema.DecayAt(1), 15);
        Assert.Equal(0.9999 * (1 - Math.Exp(-1.0)), ema.DecayAt(2000), 15);
        Assert.True(ema.DecayAt(100_000) > 0.9998);
    }

    [Fact]
    public void Update_averages_float_state_including_bn_statistics_and_copies_integer_buffers()
    {
        var model = Sequential(("lin", Linear(1, 1)), ("bn", BatchNorm1d(1)));
        using (no_grad())
        {
            model.state_dict()["lin.weight"].fill_(1.0);
            model.state_dict()["bn.running_mean"].fill_(0.0);
        }
        using var ema = new ModelEma(model);
        using (no_grad())
        {
            model.state_dict()["lin.weight"].fill_(3.0);
            model.state_dict()["bn.running_mean"].fill_(2.0);
            model.state_dict()["bn.num_batches_tracked"].fill_(7);
        }
        ema.Update(model);
        double d = ema.DecayAt(1);
        Assert.Equal(1, ema.Updates);
        Assert.Equal(d * 1 + (1 - d) * 3, ema.State["lin.weight"].item<float>(), 5);
        Assert.Equal((1 - d) * 2, ema.State["bn.running_mean"].item<float>(), 5);
        Assert.Equal(7, ema.State["bn.num_batches_tracked"].item<long>());
    }

    [Fact]
    public void Swap_puts_the_average_in_and_the_training_weights_back_bit_for_bit()
    {
        manual_seed(3);
        var model = Sequential(("lin", Linear(4, 3)));
        using var ema = new ModelEma(model);
        using (no_grad()) model.state_dict()["lin.weight"].add_(randn(3, 4));
        ema.Update(model);
        var before = EngineTest.Bytes(model);
        using (ema.SwapInto(model))
            Assert.Equal(ema.State["lin.weight"].data<float>().ToArray(), model.state_dict()["lin.weight"].data<float>().ToArray());
        EngineTest.AssertBitwiseEqual(before, EngineTest.Bytes(model));
    }
}
