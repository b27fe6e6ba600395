using Strix.Engine.Optim;

namespace Strix.Tasks;

/// <summary>
/// YOLOv8's schedule: an iteration-based warm-up over nw = max(round(warmup_epochs·nb), 100) iterations
/// (none when warmup_epochs = 0) during which, by linear interpolation on [0, nw], the "bias" group's lr
/// falls from <c>warmup_bias_lr</c> to initial_lr·lf(epoch), the other groups' lr rise from 0 to it, SGD
/// momentum rises from <c>warmup_momentum</c> to <c>momentum</c>, and gradient accumulation rises from 1
/// to nbs/batch; then lr = initial_lr·lf(epoch) with <see cref="LrLambdas.Linear"/> or
/// <see cref="LrLambdas.Cosine"/>. Epoch e uses lf(e).
/// </summary>
public sealed class YoloLrScheduler : LambdaLr
{
    public YoloLrScheduler(Optimizer optimizer, double lrf, bool cosLr, double warmupEpochs, double warmupBiasLr,
        double warmupMomentum, double momentum, int nominalBatchSize, int batchSize)
        : base(optimizer, cosLr ? (e, n) => LrLambdas.Cosine(e, n, lrf) : (e, n) => LrLambdas.Linear(e, n, lrf))
    {
        WarmupEpochs = warmupEpochs;
        WarmupBiasLr = warmupBiasLr;
        WarmupMomentum = warmupMomentum;
        Momentum = momentum;
        NominalBatchSize = nominalBatchSize;
        BatchSize = batchSize;
    }

    public double WarmupEpochs { get; }
    public double WarmupBiasLr { get; }
    public double WarmupMomentum { get; }
    public double Momentum { get; }
    public int NominalBatchSize { get; }
    public int BatchSize { get; }

    /// <summary>Last warm-up iteration nw (−1: no warm-up).</summary>
    public long WarmupIterations(int batchesPerEpoch) =>
        WarmupEpochs > 0 ? Math.Max((long)Math.Round(WarmupEpochs * batchesPerEpoch), 100) : -1;

    public override void Apply(ScheduleStep step)
    {
        long nw = WarmupIterations(step.BatchesPerEpoch);
        double f = Factor(step.Epoch, step.Epochs);
        bool sgdMomentum = Optimizer is Sgd;
        foreach (var g in Optimizer.ParamGroups)
        {
            double target = g.InitialLr * f;
            if (step.Iteration <= nw)
            {
                g.Lr = Interp(step.Iteration, nw, g.Name == "bias" ? WarmupBiasLr : 0.0, target);
                if (sgdMomentum) g.Momentum = Interp(step.Iteration, nw, WarmupMomentum, Momentum);
            }
            else g.Lr = target;
        }
    }

    public override int? AccumulateAt(ScheduleStep step)
    {
        long nw = WarmupIterations(step.BatchesPerEpoch);
        double full = (double)NominalBatchSize / BatchSize;
        double a = step.Iteration <= nw ? Interp(step.Iteration, nw, 1, full) : full;
        return Math.Max(1, (int)Math.Round(a));
    }

    /// <summary>numpy.interp on [0, nw] → [y0, y1] (clamped; nw = 0 gives y1).</summary>
    static double Interp(long x, long nw, double y0, double y1) =>
        nw <= 0 ? y1 : y0 + (y1 - y0) * Math.Clamp((double)x / nw, 0, 1);
}
