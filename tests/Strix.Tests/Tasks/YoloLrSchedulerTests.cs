using Strix.Tasks;
using Strix.Engine.Optim;
using Parameter = TorchSharp.Modules.Parameter;
using static TorchSharp.torch;

namespace Strix.Tests.Tasks;

public class YoloLrSchedulerTests
{
    [Theory]
    [InlineData(0, 1.0)]
    [InlineData(50, 0.505)]
    [InlineData(99, 0.0199)]
    [InlineData(100, 0.01)]
    [InlineData(120, 0.01)]
    public void Linear_lf(int epoch, double expected) => Assert.Equal(expected, LrLambdas.Linear(epoch, 100, 0.01), 12);

    [Theory]
    [InlineData(0, 1.0)]
    [InlineData(25, 0.855017856687341)] // 1 − 0.99·(1 − cos 45°)/2
    [InlineData(50, 0.505)]
    [InlineData(100, 0.01)]
    public void Cosine_lf(int epoch, double expected) => Assert.Equal(expected, LrLambdas.Cosine(epoch, 100, 0.01), 12);

    static (Optimizer Opt, YoloLrScheduler Sched) Make(bool sgd = true, double warmupEpochs = 3)
    {
        ParamGroup G(string n) => new(n, new[] { (n + ".p", new Parameter(zeros(1))) }, 0.01, 0.937, n == "weight" ? 5e-4 : 0);
        var groups = new[] { G("bias"), G("weight"), G("bn") };
        Optimizer opt = sgd ? new Sgd(groups) : new Adam(groups, true);
        return (opt, new YoloLrScheduler(opt, lrf: 0.01, cosLr: false, warmupEpochs, warmupBiasLr: 0.1,
            warmupMomentum: 0.8, momentum: 0.937, nominalBatchSize: 64, batchSize: 16));
    }

    /// <summary>50 batches/epoch, 3 warm-up epochs → nw = 150; 10 epochs; lr0 0.01, lrf 0.01.</summary>
    [Theory]
    [InlineData(0, 0, 0.1, 0.0, 0.8, 1)]
    [InlineData(75, 1, 0.054505, 0.004505, 0.8685, 2)]   // half-way; lf(1) = 0.901; accumulate round(2.5) = 2 (to even, as numpy)
    [InlineData(150, 3, 0.00703, 0.00703, 0.937, 4)]     // end of warm-up: lf(3) = 0.703
    [InlineData(151, 3, 0.00703, 0.00703, 0.937, 4)]
    [InlineData(499, 9, 0.00109, 0.00109, 0.937, 4)]     // lf(9) = 0.1·0.99 + 0.01 = 0.109
    public void Yolo_warmup_curves(long ni, int epoch, double biasLr, double otherLr, double momentum, int accumulate)
    {
        var (opt, s) = Make();
        Assert.Equal(150, s.WarmupIterations(50));
        for (long i = 0; i <= ni; i++) s.Apply(new ScheduleStep(i, (int)(i / 50), 10, 50)); // momentum carries over, as in Ultralytics
        var step = new ScheduleStep(ni, epoch, 10, 50);
        Assert.Equal(biasLr, opt.ParamGroups[0].Lr, 12);
        Assert.Equal(otherLr, opt.ParamGroups[1].Lr, 12);
        Assert.Equal(otherLr, opt.ParamGroups[2].Lr, 12);
        Assert.All(opt.ParamGroups, g => Assert.Equal(momentum, g.Momentum, 12));
        Assert.Equal(accumulate, s.AccumulateAt(step));
    }

    [Fact]
    public void Warmup_lasts_at_least_100_iterations_and_can_be_disabled()
    {
        var (_, s) = Make();
        Assert.Equal(100, s.WarmupIterations(2));
        var (opt, none) = Make(warmupEpochs: 0);
        Assert.Equal(-1, none.WarmupIterations(2));
        none.Apply(new ScheduleStep(0, 0, 10, 2));
        Assert.All(opt.ParamGroups, g => Assert.Equal(0.01, g.Lr, 12));
        Assert.Equal(4, none.AccumulateAt(new ScheduleStep(0, 0, 10, 2)));
    }

    [Fact]
    public void Adam_momentum_is_not_warmed_up()
    {
        var (opt, s) = Make(sgd: false);
        s.Apply(new ScheduleStep(0, 0, 10, 50));
        Assert.All(opt.ParamGroups, g => Assert.Equal(0.937, g.Momentum));
        Assert.Equal(0.1, opt.ParamGroups[0].Lr, 12);
    }
}
